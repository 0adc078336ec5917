// Package cli holds tether's cobra commands. Output for a person goes through
// the command's writers, never the logger.
package cli
