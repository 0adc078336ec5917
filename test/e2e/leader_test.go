package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestLeaderElection runs two replicas with --leader-elect on the same
// namespace: only the leader writes; a push to the standby's webhook
// reaches the leader through the refresh annotation; when the leader
// stops, the standby takes over and syncs the next commit.
func TestLeaderElection(t *testing.T) {
	hookA, hookB := freeAddr(t), freeAddr(t)
	a := startTether(t, func(o *controller.Options) {
		o.LeaderElect = true
		o.WebhookAddr = hookA
		o.PollInterval = time.Hour // only a push or a new leader finds a commit
	})
	ctx := context.Background()
	lease := &coordinationv1.Lease{}
	eventually(t, 30*time.Second, "the first replica holding the Lease", func(ctx context.Context) (bool, error) {
		err := a.c.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: controller.LeaderElectionID}, lease)
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", nil
	})
	leader := *lease.Spec.HolderIdentity
	b := &tetherEnv{ns: a.ns, c: a.c, writes: &writeCounter{}, opts: a.opts}
	b.opts.WebhookAddr = hookB
	b.start(t)

	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("led", "v1")})
	a.createApp(t, named("app"), repo.HTTPURL(), dest)
	a.waitApp(t, "app", "synced by the leader", synced(""))
	standbyWrites := func(what string) []string {
		var out []string
		for _, w := range b.writes.writes() {
			if strings.Contains(w, what) {
				out = append(out, w)
			}
		}
		return out
	}
	if w := append(standbyWrites("/configmaps"), standbyWrites("/status")...); len(w) > 0 {
		t.Fatalf("the standby wrote %v", w)
	}

	// A push to the standby: it asks the leader, which syncs the commit
	// long before its hourly poll.
	if _, err := repo.Commit("main", map[string]string{"app/cm.yaml": cmYAML("led", "v2")}, nil, "v2"); err != nil {
		t.Fatal(err)
	}
	if code, msg := githubPush(t, http.DefaultClient, "http://"+hookB, repo.HTTPURL(), "refs/heads/main", ""); code != http.StatusOK || msg != "refreshed 1 applications\n" {
		t.Fatalf("push to the standby: %d %q", code, msg)
	}
	eventually(t, 20*time.Second, "the pushed commit applied by the leader", func(ctx context.Context) (bool, error) {
		cm := configMap(t, dest, "led")
		return cm != nil && cm.Data["value"] == "v2", nil
	})
	if w := standbyWrites("/configmaps"); len(w) > 0 {
		t.Fatalf("the standby applied %v", w)
	}
	if len(standbyWrites("/applications/app")) == 0 {
		t.Fatal("the standby did not ask the leader (no write of the app's refresh annotation)")
	}

	// The leader stops (releasing the Lease): the standby leads and finds
	// the next commit when it starts reconciling.
	if _, err := repo.Commit("main", map[string]string{"app/cm.yaml": cmYAML("led", "v3")}, nil, "v3"); err != nil {
		t.Fatal(err)
	}
	a.stop()
	eventually(t, 30*time.Second, "the standby leading and applying the next commit", func(ctx context.Context) (bool, error) {
		cm := configMap(t, dest, "led")
		return cm != nil && cm.Data["value"] == "v3", nil
	})
	if err := a.c.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: controller.LeaderElectionID}, lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h == nil || *h == leader {
		t.Fatalf("the Lease is still held by the stopped replica %q", leader)
	}
	if len(standbyWrites("/configmaps")) == 0 {
		t.Fatal("the new leader applied nothing")
	}
}
