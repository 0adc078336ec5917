package source

import (
	"context"
	"errors"
	"testing"

	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func TestVerifySignature(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	repo, err := srv.CreateRepo("signed", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := repo.Commit("main", map[string]string{"cm.yaml": "kind: ConfigMap\n"}, nil, "unsigned")
	if err != nil {
		t.Fatal(err)
	}
	ada, err := gitserver.NewSigningKey("Ada", "ada@example.test")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := gitserver.NewSigningKey("Mallory", "mallory@example.test")
	if err != nil {
		t.Fatal(err)
	}
	byAda, err := repo.CommitSigned(ada, "main", "signed by Ada")
	if err != nil {
		t.Fatal(err)
	}
	byMallory, err := repo.CommitSigned(mallory, "main", "signed by Mallory")
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	if _, err := c.Resolve(ctx, repo.HTTPURL(), "main", nil, 0); err != nil {
		t.Fatal(err)
	}
	snap := func(sha string) *Snapshot {
		s, err := c.Snapshot(ctx, repo.HTTPURL(), sha, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	if id, err := snap(byAda).VerifySignature([]string{mallory.Public, ada.Public}); err != nil || id != ada.ID {
		t.Errorf("Ada's commit with Ada's key among others: %q, %v; want %s", id, err, ada.ID)
	}
	_, err = snap(byMallory).VerifySignature([]string{ada.Public})
	var se *SignatureError
	if !errors.As(err, &se) || se.KeyID != mallory.ID {
		t.Errorf("Mallory's commit with only Ada's key: %v; want a SignatureError naming %s", err, mallory.ID)
	}
	if _, err := snap(unsigned).VerifySignature([]string{ada.Public}); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned commit: %v, want ErrUnsigned", err)
	}
	if _, err := snap(byAda).VerifySignature([]string{"not a key"}); err == nil {
		t.Error("a keyring that is not a key verified")
	}
	chart := &Snapshot{Commit: "1.2.3"}
	if _, err := chart.VerifySignature([]string{ada.Public}); err == nil {
		t.Error("a chart snapshot verified")
	}
	ids, err := ArmoredKeyIDs(ada.Public)
	if err != nil || len(ids) != 1 || ids[0] != ada.ID {
		t.Errorf("ArmoredKeyIDs = %v, %v; want [%s]", ids, err, ada.ID)
	}
}
