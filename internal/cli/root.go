package cli

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"
)

// ExitError carries a process exit code chosen by a command (for example
// `tether app diff` exits 1 when there are differences).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return "exit status"
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by Execute to a process exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 2
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "tether",
		Short:         "GitOps agent for Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	k := &kubeFlags{}
	k.add(root)
	root.AddCommand(newVersionCmd(), newInstallCmd(), newControllerCmd(k), newAppCmd(k), newClusterCmd(k), newAppSetCmd(), newRenderCmd())
	return root
}

// Execute runs the command line args with ctx.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
