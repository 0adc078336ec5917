// Package source fetches Git repositories into a cache shared by every app
// that uses them and hands out immutable snapshots: the resolved commit, its
// author, message and time, and a read-only directory with its files.
//
// Remote refs are listed with one cheap ref advertisement per repository,
// shared by all callers for a configurable age (Refs); objects are fetched
// only when a wanted commit is not in the cache yet.
package source
