package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-gitops/tether/deploy"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/version"
)

func newInstallCmd() *cobra.Command {
	var crds bool
	var appNamespaces string
	opts := deploy.Options{Namespace: "argocd", Image: deploy.DefaultImage(version.Version)}
	cmd := &cobra.Command{
		Use:   "install [--crds]",
		Short: "Print the manifests that install tether (pipe into kubectl apply --server-side -f -)",
		Long: `install prints tether's CRDs and the manifests that run its controller in
the cluster: the namespace, a service account with a cluster role, the
Deployment (with probes, and a memory limit its Go runtime follows) and a
Service for the webhook and metrics ports. --crds prints the CRDs alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.AppNamespaces = splitList(appNamespaces)
			if opts.Replicas < 1 {
				return fmt.Errorf("--replicas %d: must be 1 or more", opts.Replicas)
			}
			print := deploy.Install
			if crds {
				print = func(deploy.Options) ([]byte, error) { return deploy.CRDs() }
			}
			b, err := print(opts)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&crds, "crds", false, "print only the CustomResourceDefinitions of Application, AppProject and ApplicationSet")
	f.StringVar(&opts.Namespace, "namespace", opts.Namespace, "tether's namespace (created): its Secrets, AppProjects and, by default, Applications")
	f.StringVar(&appNamespaces, "app-namespaces", "", "comma-separated namespaces watched for Applications (default: --namespace)")
	f.StringVar(&opts.Image, "image", opts.Image, "the controller's container image")
	f.Int32Var(&opts.Replicas, "replicas", 1, "controller replicas: one leads (Lease "+controller.LeaderElectionID+"), the others stand by, ready to take over")
	f.BoolVar(&opts.SyncImpersonation, "sync-impersonation", false, "run the controller with --sync-impersonation: syncs act as the service accounts AppProjects name in destinationServiceAccounts")
	return cmd
}
