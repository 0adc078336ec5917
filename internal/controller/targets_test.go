package controller

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestDescribeClusterErrorGivesTheReasonWithoutSecrets(t *testing.T) {
	gr := schema.GroupResource{Resource: "namespaces"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{apierrors.NewUnauthorized("token s3cret expired"), "the credentials were refused (401 Unauthorized"},
		{apierrors.NewForbidden(gr, "x", errors.New("no")), "403 Forbidden"},
		{&url.Error{Op: "Get", URL: "https://user:s3cret@h/version", Err: errors.New("dial tcp 10.0.0.1:6443: connect: connection refused")}, "unreachable: connection refused"},
		{&url.Error{Op: "Get", URL: "https://h/version", Err: errors.New("dial tcp: lookup h: no such host")}, "unreachable: unknown host"},
		{&url.Error{Op: "Get", URL: "https://h/version", Err: errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")}, "TLS verification failed: certificate signed by unknown authority"},
		{context.DeadlineExceeded, "unreachable: timed out"},
		{&url.Error{Op: "Get", URL: "https://h/version", Err: errors.New("read: connection reset by peer")}, "unreachable: connection reset by peer"},
	} {
		got := DescribeClusterError(c.err)
		if !strings.Contains(got, c.want) {
			t.Errorf("%v: got %q, want %q", c.err, got, c.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("%v: the description shows a secret: %q", c.err, got)
		}
	}
}
