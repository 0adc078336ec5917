// Package gitserver runs a real git server on the loopback interface for
// tests and the local demo.
//
// A Server serves bare repositories kept under one root directory over two
// transports:
//
//   - smart HTTP, through the system's `git http-backend` run as a CGI
//     program, at http://127.0.0.1:PORT/<name>.git;
//   - SSH, through an in-process SSH server that runs the real
//     `git upload-pack` and `git receive-pack`, at
//     ssh://git@127.0.0.1:PORT/<name>.git.
//
// Both listeners bind 127.0.0.1 on ports chosen by the kernel, so many
// servers can run side by side.
//
// Every repository has an Access mode that the HTTP handler enforces:
// Anonymous (no credentials), BasicAuth (the server's username and
// password) or BearerToken (an "Authorization: Bearer <token>" header, or
// basic auth whose password is the token). Over SSH only public-key
// authentication is offered; the server generates an ed25519 host key and
// one authorized ed25519 client key, whose private half ClientPrivateKey
// returns. KnownHosts returns the matching known_hosts line.
//
// Repo's write helpers (Commit, CommitAs, CommitEntries, CommitDir, Tag)
// change a repository the way a person would: they commit in a private work
// clone and push to the bare repository through its path on disk, so they
// do not show up in the request counters that Requests reports.
// CommitEntries also writes executables and symbolic links.
//
// All git processes run with a clean environment: HOME points at a
// private temporary directory and GIT_CONFIG_NOSYSTEM=1 is set, so the
// host's git configuration never changes the outcome. git must be
// installed and on PATH.
//
// A minimal test:
//
//	srv, err := gitserver.Start(gitserver.Options{})
//	if err != nil {
//		t.Fatal(err)
//	}
//	t.Cleanup(func() { srv.Close() })
//	repo, err := srv.CreateRepo("app", gitserver.BasicAuth)
//	if err != nil {
//		t.Fatal(err)
//	}
//	sha, err := repo.Commit("main", map[string]string{"deploy/cm.yaml": "kind: ConfigMap\n"}, nil, "initial")
//	// ... point the code under test at repo.HTTPURL() with
//	// srv.Username() and srv.Password().
package gitserver
