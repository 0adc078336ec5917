package main

import "context"

// runDemo pushes the examples and runs tether on them. It grows as
// features land.
func runDemo(ctx context.Context, d *demoInfo) error {
	return nil
}
