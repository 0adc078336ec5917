package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/tether-gitops/tether/deploy"
)

func newInstallCmd() *cobra.Command {
	var crds bool
	cmd := &cobra.Command{
		Use:   "install --crds",
		Short: "Print the manifests that install tether (pipe into kubectl apply -f -)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !crds {
				return errors.New("say what to print: --crds")
			}
			b, err := deploy.CRDs()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().BoolVar(&crds, "crds", false, "print the CustomResourceDefinitions of Application, AppProject and ApplicationSet")
	return cmd
}
