// Package source fetches Git repositories into a cache shared by every app
// that uses them and hands out immutable snapshots: the resolved commit, its
// author, message and time, and a read-only io/fs file system over its tree,
// read lazily from the cached repository (nothing is checked out to disk).
//
// Remote refs are listed with one cheap ref advertisement per repository,
// shared by all callers for a configurable age (Refs); objects are fetched
// only when a wanted commit is not in the cache yet.
package source
