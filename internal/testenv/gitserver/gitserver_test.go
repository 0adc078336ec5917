package gitserver

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestStartWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(Options{})
	if err == nil || !strings.Contains(err.Error(), "git not found in PATH") {
		t.Fatalf("Start without git: got %v, want a 'git not found in PATH' error", err)
	}
}

func TestHTTPAnonymousClone(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, sha := newRepo(t, s, "app", Anonymous)
	if !strings.HasPrefix(r.HTTPURL(), "http://127.0.0.1:") || !strings.HasSuffix(r.HTTPURL(), "/app.git") {
		t.Errorf("HTTPURL = %q", r.HTTPURL())
	}
	dir, err := cloneRepo(t, r.HTTPURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "deploy", "app.yaml")); got != "kind: ConfigMap\n" {
		t.Errorf("app.yaml = %q", got)
	}
	if head := mustGit(t, dir, nil, "rev-parse", "HEAD"); head != sha {
		t.Errorf("cloned HEAD = %s, want %s", head, sha)
	}
	if head, err := r.Head("main"); err != nil || head != sha {
		t.Errorf("Head(main) = %s, %v; want %s", head, err, sha)
	}
}

func TestHTTPBasicAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, _ := newRepo(t, s, "private", BasicAuth)

	resp, err := http.Get(r.HTTPURL() + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="tether-test"` {
		t.Errorf("unauthenticated GET: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if _, err := cloneRepo(t, withUser(t, r.HTTPURL(), s.Username(), s.Password()), nil); err != nil {
		t.Errorf("clone with right credentials: %v", err)
	}
	_, err = cloneRepo(t, withUser(t, r.HTTPURL(), s.Username(), "wrong"), nil)
	wantFailure(t, "clone with a wrong password", err, "Authentication failed")
	_, err = cloneRepo(t, r.HTTPURL(), nil)
	wantFailure(t, "clone without credentials", err, "terminal prompts disabled")
}

func TestHTTPBearerToken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, _ := newRepo(t, s, "tokened", BearerToken)
	header := func(tok string) []string { return []string{"-c", "http.extraHeader=Authorization: Bearer " + tok} }

	if _, err := cloneRepo(t, r.HTTPURL(), nil, header(s.Token())...); err != nil {
		t.Errorf("clone with the right token: %v", err)
	}
	_, err := cloneRepo(t, r.HTTPURL(), nil, header("wrong")...)
	wantFailure(t, "clone with a wrong token", err, "terminal prompts disabled") // git asks for credentials after a 401
	if _, err := cloneRepo(t, withUser(t, r.HTTPURL(), "x-token", s.Token()), nil); err != nil {
		t.Errorf("clone with the token as basic-auth password: %v", err)
	}
	_, err = cloneRepo(t, r.HTTPURL(), nil)
	wantFailure(t, "clone without credentials", err, "terminal prompts disabled")
}

func TestPush(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, _ := newRepo(t, s, "pushed", BasicAuth)
	dir, err := cloneRepo(t, withUser(t, r.HTTPURL(), s.Username(), s.Password()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "new.txt"), []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(t, dir, nil, "add", "new.txt")
	mustGit(t, dir, nil, "commit", "--quiet", "-m", "add new.txt")
	mustGit(t, dir, nil, "push", "--quiet", "origin", "main")
	local := mustGit(t, dir, nil, "rev-parse", "HEAD")
	if head, err := r.Head("main"); err != nil || head != local {
		t.Errorf("after HTTP push Head(main) = %s, %v; want %s", head, err, local)
	}

	mustGit(t, dir, serverSSHEnv(t, s), "push", "--quiet", r.SSHURL(), "HEAD:refs/heads/via-ssh")
	if head, err := r.Head("via-ssh"); err != nil || head != local {
		t.Errorf("after SSH push Head(via-ssh) = %s, %v; want %s", head, err, local)
	}
	if got := r.Requests().ReceivePack; got != 2 {
		t.Errorf("ReceivePack = %d, want 2", got)
	}

	// The write helpers build on what was pushed.
	sha, err := r.Commit("main", map[string]string{"more.txt": "more\n"}, nil, "more")
	if err != nil {
		t.Fatal(err)
	}
	mustGit(t, dir, nil, "pull", "--quiet", "--ff-only")
	if got := mustGit(t, dir, nil, "rev-parse", "HEAD~1"); got != local {
		t.Errorf("parent of %s = %s, want the pushed %s", sha, got, local)
	}
}

func TestTagAndBranches(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, mainSHA := newRepo(t, s, "tagged", Anonymous)
	featSHA, err := r.Commit("feature", map[string]string{"feature.txt": "f\n"}, nil, "feature")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Tag("v1.0.0", "main"); err != nil {
		t.Fatal(err)
	}
	if err := r.Tag("v1.0.0", "main"); err == nil {
		t.Error("tagging an existing tag succeeded")
	}
	if err := r.Tag("v2", "no-such-branch"); err == nil {
		t.Error("tagging a missing revision succeeded")
	}
	out := mustGit(t, "", nil, "ls-remote", r.HTTPURL())
	for _, want := range []string{
		mainSHA + "\trefs/heads/main",
		featSHA + "\trefs/heads/feature",
		"\trefs/tags/v1.0.0\n",
		mainSHA + "\trefs/tags/v1.0.0^{}",
	} {
		if !strings.Contains(out+"\n", want) {
			t.Errorf("ls-remote lacks %q:\n%s", want, out)
		}
	}
	files := mustGit(t, r.Path(), nil, "ls-tree", "-r", "--name-only", "feature")
	if files != "deploy/app.yaml\nfeature.txt" {
		t.Errorf("feature branch files = %q, want main's plus feature.txt", files)
	}
}

func TestWriteHelpers(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, err := s.CreateRepo("helpers.git", Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "helpers" || s.Repo("helpers.git") != r || s.Repo("helpers") != r {
		t.Errorf("name %q or lookup mismatch", r.Name())
	}
	if _, err := r.CommitAs(Author{Name: "Alice", Email: "alice@example.test"}, "main",
		map[string]string{"a.txt": "a\n", "dir/b.txt": "b\n"}, nil, "first"); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for p, mode := range map[string]os.FileMode{"x/y.yaml": 0o644, "sub/run.sh": 0o755, ".git/config": 0o644} {
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(p), mode); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.CommitDir("main", src, "deploy", "copy dir"); err != nil {
		t.Fatal(err)
	}
	sha, err := r.Commit("main", nil, []string{"dir"}, "remove dir")
	if err != nil {
		t.Fatal(err)
	}
	tree := mustGit(t, r.Path(), nil, "ls-tree", "-r", "main")
	for _, want := range []string{"100644 blob", "a.txt", "100644 blob .*deploy/x/y.yaml", "100755 blob .*deploy/sub/run.sh"} {
		if !regexp.MustCompile(want).MatchString(tree) {
			t.Errorf("tree lacks %q:\n%s", want, tree)
		}
	}
	if strings.Contains(tree, "dir/b.txt") || strings.Contains(tree, ".git/") {
		t.Errorf("tree has removed or .git files:\n%s", tree)
	}
	if got := mustGit(t, r.Path(), nil, "log", "--format=%an <%ae>", "main~2", "-1"); got != "Alice <alice@example.test>" {
		t.Errorf("author = %q", got)
	}
	if got := mustGit(t, r.Path(), nil, "log", "--format=%an <%ae>", sha, "-1"); got != "Test Author <author@example.test>" {
		t.Errorf("default author = %q", got)
	}
	if _, err := r.Commit("pages", map[string]string{"index.html": "x"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"escaping path": second(r.Commit("main", map[string]string{"../evil": "x"}, nil, "")),
		".git path":     second(r.Commit("main", map[string]string{".git/config": "x"}, nil, "")),
		"missing rm":    second(r.Commit("main", nil, []string{"nope.txt"}, "")),
		"bad branch":    second(r.Commit("a..b", map[string]string{"x": "x"}, nil, "")),
		"missing head":  second(r.Head("nope")),
	} {
		if err == nil || !strings.Contains(err.Error(), `"helpers"`) {
			t.Errorf("%s: got %v, want an error naming the repo", name, err)
		}
	}
}

func TestCommitEntries(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, err := s.CreateRepo("entries", Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CommitEntries("main", []Entry{
		{Path: "dir/a.txt", Data: "a\n"},
		{Path: "run.sh", Data: "#!/bin/sh\n", Mode: 0o755},
		{Path: "link", Data: "dir/a.txt", Mode: os.ModeSymlink},
		{Path: "dirlink", Data: "dir", Mode: os.ModeSymlink},
	}, nil, "entries"); err != nil {
		t.Fatal(err)
	}
	tree := mustGit(t, r.Path(), nil, "ls-tree", "-r", "main")
	for _, want := range []string{`100644 blob \S+\tdir/a.txt`, `100755 blob \S+\trun.sh`, `120000 blob \S+\tlink`, `120000 blob \S+\tdirlink`} {
		if !regexp.MustCompile(want).MatchString(tree) {
			t.Errorf("tree lacks %q:\n%s", want, tree)
		}
	}
	if got := mustGit(t, r.Path(), nil, "cat-file", "blob", "main:link"); got != "dir/a.txt" {
		t.Errorf("link target = %q", got)
	}
	// A link replaced by a file is not written through.
	if _, err := r.CommitEntries("main", []Entry{{Path: "link", Data: "plain\n"}}, nil, "replace link"); err != nil {
		t.Fatal(err)
	}
	if got := mustGit(t, r.Path(), nil, "cat-file", "blob", "main:dir/a.txt"); got != "a" {
		t.Errorf("dir/a.txt = %q after replacing the link", got)
	}
	if got := mustGit(t, r.Path(), nil, "ls-tree", "main", "link"); !strings.HasPrefix(got, "100644 blob") {
		t.Errorf("replaced link = %q", got)
	}
	for name, err := range map[string]error{
		"below a link": second(r.CommitEntries("main", []Entry{{Path: "dirlink/b.txt", Data: "b"}}, nil, "")),
		"empty target": second(r.CommitEntries("main", []Entry{{Path: "l2", Mode: os.ModeSymlink}}, nil, "")),
		"named pipe":   second(r.CommitEntries("main", []Entry{{Path: "p", Mode: os.ModeNamedPipe}}, nil, "")),
	} {
		if err == nil || !strings.Contains(err.Error(), `"entries"`) {
			t.Errorf("%s: got %v, want an error naming the repo", name, err)
		}
	}
}

// wantFailure checks that err is a failure whose message has want.
func wantFailure(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s succeeded", what)
	} else if !strings.Contains(err.Error(), want) {
		t.Errorf("%s failed without %q: %v", what, want, err)
	}
}

func second(_ string, err error) error { return err }

func TestCreateRepoErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, name := range []string{"", "../x", "a/../b", "/abs", "x y", ".hidden", "a.git/b", "a/"} {
		if _, err := s.CreateRepo(name, Anonymous); err == nil {
			t.Errorf("CreateRepo(%q) succeeded", name)
		}
	}
	if _, err := s.CreateRepo("app", Anonymous); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRepo("app", BasicAuth); err == nil {
		t.Error("creating an existing repo succeeded")
	}
	if s.Repo("missing") != nil {
		t.Error("Repo(missing) is not nil")
	}
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, _ := newRepo(t, s, "counted", Anonymous)
	if got := r.Requests(); got != (RequestCounts{}) {
		t.Errorf("counts after write helpers = %+v, want zero", got)
	}
	if _, err := cloneRepo(t, r.HTTPURL(), nil); err != nil {
		t.Fatal(err)
	}
	afterHTTP := r.Requests()
	if afterHTTP.InfoRefs < 1 || afterHTTP.UploadPack < 1 {
		t.Errorf("counts after HTTP clone = %+v", afterHTTP)
	}
	if _, err := cloneRepo(t, r.SSHURL(), serverSSHEnv(t, s)); err != nil {
		t.Fatal(err)
	}
	afterSSH := r.Requests()
	if afterSSH.UploadPack != afterHTTP.UploadPack+1 || afterSSH.SSHSessions != 1 || afterSSH.InfoRefs != afterHTTP.InfoRefs {
		t.Errorf("counts after SSH clone = %+v (after HTTP %+v)", afterSSH, afterHTTP)
	}

	locked, _ := newRepo(t, s, "locked", BasicAuth)
	if _, err := cloneRepo(t, locked.HTTPURL(), nil); err == nil {
		t.Fatal("clone without credentials succeeded")
	}
	if got := locked.Requests(); got != (RequestCounts{}) {
		t.Errorf("rejected requests were counted: %+v", got)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	keep := t.TempDir()
	s, err := Start(Options{Dir: keep, Username: "u", Password: "p", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Username() != "u" || s.Password() != "p" || s.Token() != "t" {
		t.Error("given credentials not used")
	}
	r, _ := newRepo(t, s, "kept", Anonymous)
	tmp := startServer(t)
	for _, srv := range []*Server{s, tmp} {
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
	if _, err := os.Stat(r.Path()); err != nil {
		t.Errorf("repo in Options.Dir removed by Close: %v", err)
	}
	if _, err := os.Stat(tmp.Dir()); !os.IsNotExist(err) {
		t.Errorf("temp repos dir survives Close: %v", err)
	}
	if _, err := s.CreateRepo("late", Anonymous); err == nil {
		t.Error("CreateRepo after Close succeeded")
	}
}
