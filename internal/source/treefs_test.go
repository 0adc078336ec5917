package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// commitSnapshot commits entries to a new repository and returns the
// snapshot of that commit.
func commitSnapshot(t *testing.T, entries []gitserver.Entry) (*Cache, *gitserver.Repo, *Snapshot) {
	t.Helper()
	srv := startServer(t)
	repo, err := srv.CreateRepo("tree", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	sha, err := repo.CommitEntries("main", entries, nil, "tree")
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	snap, err := c.Snapshot(context.Background(), repo.HTTPURL(), sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, repo, snap
}

func file(p, data string) gitserver.Entry { return gitserver.Entry{Path: p, Data: data} }

func link(p, target string) gitserver.Entry {
	return gitserver.Entry{Path: p, Data: target, Mode: os.ModeSymlink}
}

func TestTreeFSPassesFSTest(t *testing.T) {
	_, _, snap := commitSnapshot(t, []gitserver.Entry{
		file("README.md", "hello\n"),
		file("empty", ""),
		file("apps/api/deploy.yaml", "kind: Deployment\n"),
		file("apps/api/base/cm.yaml", "kind: ConfigMap\n"),
		file("apps/web/values.yaml", strings.Repeat("x: 1\n", 20000)),
		{Path: "bin/run.sh", Data: "#!/bin/sh\n", Mode: 0o755},
		link("apps/current", "api"),
		link("apps/readme", "../README.md"),
	})
	if err := fstest.TestFS(snap.FS, "README.md", "empty", "apps/api/deploy.yaml", "apps/api/base/cm.yaml",
		"apps/web/values.yaml", "bin/run.sh", "apps/current", "apps/readme"); err != nil {
		t.Fatal(err)
	}
}

func TestTreeFSModesAndSizes(t *testing.T) {
	big := strings.Repeat("line of a large file\n", 5000) // larger than go-git's in-memory threshold
	srv := startServer(t)
	repo, err := srv.CreateRepo("modes", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.CommitEntries("main", []gitserver.Entry{
		file("dir/plain.yaml", "abc\n"),
		{Path: "dir/run.sh", Data: "#!/bin/sh\necho hi\n", Mode: 0o755},
		file("big.txt", big),
	}, nil, "first")
	if err != nil {
		t.Fatal(err)
	}
	// The fetched pack stores one version of big.txt as a delta of the other.
	second, err := repo.CommitEntries("main", []gitserver.Entry{file("big.txt", big+"one more line\n")}, nil, "second")
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	for commit, bigSize := range map[string]int{first: len(big), second: len(big) + 14} {
		snap, err := c.Snapshot(context.Background(), repo.HTTPURL(), commit, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]struct {
			mode fs.FileMode
			size int64
		}{
			".":              {fs.ModeDir | 0o555, 0},
			"dir":            {fs.ModeDir | 0o555, 0},
			"dir/plain.yaml": {0o444, 4},
			"dir/run.sh":     {0o555, 18},
			"big.txt":        {0o444, int64(bigSize)},
		} {
			info, err := fs.Stat(snap.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode() != want.mode || info.Size() != want.size || !info.ModTime().Equal(snap.Time) {
				t.Errorf("%s: Stat = %v size %d time %v, want %v size %d time %v", name, info.Mode(), info.Size(), info.ModTime(), want.mode, want.size, snap.Time)
			}
			if name == "." || info.IsDir() {
				continue
			}
			data, err := fs.ReadFile(snap.FS, name)
			if err != nil || int64(len(data)) != info.Size() {
				t.Errorf("%s: ReadFile = %d bytes, %v; Stat size %d", name, len(data), err, info.Size())
			}
		}
	}
}

func TestTreeFSSymlinks(t *testing.T) {
	chain := []gitserver.Entry{file("target.txt", "end")}
	for i := range maxLinks + 1 {
		next := fmt.Sprintf("chain/l%d", i+1)
		if i == maxLinks {
			next = "target.txt"
		}
		chain = append(chain, link(fmt.Sprintf("chain/l%d", i), "../"+next))
	}
	_, _, snap := commitSnapshot(t, append(chain,
		file("base/cm.yaml", "kind: ConfigMap\n"),
		file("top.txt", "top\n"),
		link("tofile", "base/cm.yaml"),
		link("todir", "base"),
		link("todir-slash", "base/"),
		link("tofile-slash", "top.txt/"),
		link("sub/up", "../top.txt"),
		link("sub/root", ".."),
		link("sub/deep/around", "../../base/../top.txt"),
		link("out", "../outside"),
		link("sub/out", "../../outside"),
		link("abs", "/etc/passwd"),
		link("loop1", "loop2"),
		link("loop2", "loop1"),
		link("self", "self"),
		link("dangling", "no/such/file"),
		link("sub/viaout", "../out/x"),
	))
	fsys := snap.FS

	for name, want := range map[string]string{
		"tofile":                 "kind: ConfigMap\n",
		"todir/cm.yaml":          "kind: ConfigMap\n",
		"todir-slash/cm.yaml":    "kind: ConfigMap\n",
		"sub/up":                 "top\n",
		"sub/root/top.txt":       "top\n",
		"sub/root/todir/cm.yaml": "kind: ConfigMap\n",
		"sub/deep/around":        "top\n",
		"chain/l1":               "end", // 40 links
	} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil || string(b) != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", name, b, err, want)
		}
		f, err := fsys.Open(name)
		if err != nil {
			t.Errorf("Open(%s): %v", name, err)
			continue
		}
		b, err = io.ReadAll(f)
		f.Close()
		if err != nil || string(b) != want {
			t.Errorf("Open(%s)+ReadAll = %q, %v; want %q", name, b, err, want)
		}
	}
	if list, err := fs.ReadDir(fsys, "todir"); err != nil || len(list) != 1 || list[0].Name() != "cm.yaml" {
		t.Errorf("ReadDir(todir) = %v, %v", list, err)
	}
	if info, err := fs.Stat(fsys, "todir"); err != nil || info.Mode() != fs.ModeDir|0o555 || info.Name() != "todir" {
		t.Errorf("Stat(todir) = %v, %v", info, err)
	}
	if f, err := fsys.Open("todir"); err != nil {
		t.Errorf("Open(todir): %v", err)
	} else if _, ok := f.(fs.ReadDirFile); !ok {
		t.Errorf("Open(todir) is a %T, want an fs.ReadDirFile", f)
	}

	fails := map[string]error{
		"out":          ErrLinkEscapes,
		"sub/out":      ErrLinkEscapes,
		"abs":          ErrLinkEscapes,
		"sub/viaout":   ErrLinkEscapes,
		"out/x":        ErrLinkEscapes,
		"loop1":        syscall.ELOOP,
		"self":         syscall.ELOOP,
		"chain/l0":     syscall.ELOOP, // 41 links
		"dangling":     fs.ErrNotExist,
		"dangling/x":   fs.ErrNotExist,
		"tofile-slash": syscall.ENOTDIR,
		"top.txt/x":    syscall.ENOTDIR,
	}
	for name, want := range fails {
		for op, call := range map[string]func() error{
			"Open":     func() error { f, err := fsys.Open(name); closeIf(f); return err },
			"Stat":     func() error { _, err := fs.Stat(fsys, name); return err },
			"ReadFile": func() error { _, err := fs.ReadFile(fsys, name); return err },
			"ReadDir":  func() error { _, err := fs.ReadDir(fsys, name); return err },
		} {
			err := call()
			var pe *fs.PathError
			if !errors.Is(err, want) || !errors.As(err, &pe) || pe.Path != name {
				t.Errorf("%s(%s) = %v, want a *fs.PathError for %s wrapping %q", op, name, err, name, want)
			}
		}
	}
	if _, err := fs.Stat(fsys, "out"); err == nil || !strings.Contains(err.Error(), "symbolic link points outside the repository") {
		t.Errorf("escape error = %v", err)
	}
	if _, err := fs.Stat(fsys, "loop1"); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("loop error = %v", err)
	}

	// Lstat and ReadLink do not follow the last component, even when
	// following it would fail.
	for name, target := range map[string]string{
		"tofile": "base/cm.yaml", "out": "../outside", "abs": "/etc/passwd",
		"loop1": "loop2", "dangling": "no/such/file", "sub/root/tofile": "base/cm.yaml",
	} {
		info, err := fs.Lstat(fsys, name)
		if err != nil || info.Mode() != fs.ModeSymlink|0o777 || info.Size() != int64(len(target)) || info.Name() != name[strings.LastIndex(name, "/")+1:] {
			t.Errorf("Lstat(%s) = %v, %v; want a link of size %d", name, info, err, len(target))
		}
		got, err := fs.ReadLink(fsys, name)
		if err != nil || got != target {
			t.Errorf("ReadLink(%s) = %q, %v; want %q", name, got, err, target)
		}
	}
	if info, err := fs.Lstat(fsys, "todir/cm.yaml"); err != nil || info.Mode() != 0o444 {
		t.Errorf("Lstat through a linked directory = %v, %v", info, err)
	}
	if _, err := fs.ReadLink(fsys, "top.txt"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadLink of a file = %v, want fs.ErrInvalid", err)
	}
	if _, err := fs.Lstat(fsys, "out/x"); !errors.Is(err, ErrLinkEscapes) {
		t.Errorf("Lstat through an escaping link = %v", err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entries {
		if d.Name() == "out" {
			info, err := d.Info()
			if d.Type() != fs.ModeSymlink || err != nil || info.Mode() != fs.ModeSymlink|0o777 || info.Size() != int64(len("../outside")) {
				t.Errorf("entry out = %v, info %v, %v", d, info, err)
			}
		}
	}
}

func closeIf(f fs.File) {
	if f != nil {
		f.Close()
	}
}

func TestTreeFSBadNamesAndKinds(t *testing.T) {
	_, _, snap := commitSnapshot(t, []gitserver.Entry{file("dir/a.txt", "a")})
	fsys := snap.FS.(interface {
		fs.ReadDirFS
		fs.ReadFileFS
		fs.StatFS
		fs.ReadLinkFS
	})
	for _, name := range []string{"", "/dir", "dir/", "dir/../dir", "./dir", "dir//a.txt"} {
		for op, err := range map[string]error{
			"Open":     second(fsys.Open(name)),
			"Stat":     second(fsys.Stat(name)),
			"Lstat":    second(fsys.Lstat(name)),
			"ReadLink": second(fsys.ReadLink(name)),
			"ReadFile": second(fsys.ReadFile(name)),
			"ReadDir":  second(fsys.ReadDir(name)),
		} {
			var pe *fs.PathError
			if !errors.Is(err, fs.ErrInvalid) || !errors.As(err, &pe) {
				t.Errorf("%s(%q) = %v, want a *fs.PathError with fs.ErrInvalid", op, name, err)
			}
		}
	}
	if _, err := fsys.ReadFile("dir"); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("ReadFile(dir) = %v", err)
	}
	d, err := fsys.Open("dir")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(make([]byte, 1)); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("Read of a directory = %v", err)
	}
	d.Close()
	if _, err := fsys.ReadDir("dir/a.txt"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("ReadDir of a file = %v", err)
	}
	if _, err := fsys.Open("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(nope) = %v", err)
	}
	f, err := fsys.Open("dir/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestTreeFSReadDirIsSortedByName(t *testing.T) {
	_, _, snap := commitSnapshot(t, []gitserver.Entry{
		file("a/x", "x"), file("a.b", "1"), file("a-b", "2"), file("B", "3"), file("a0", "4"),
	})
	want := []string{"B", "a", "a-b", "a.b", "a0"}
	names := func(list []fs.DirEntry) []string {
		var out []string
		for _, d := range list {
			out = append(out, d.Name())
		}
		return out
	}
	list, err := fs.ReadDir(snap.FS, ".")
	if err != nil || !slices.Equal(names(list), want) {
		t.Errorf("ReadDir = %v, %v; want %v", names(list), err, want)
	}
	d, err := snap.FS.Open(".")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var got []string
	for {
		part, err := d.(fs.ReadDirFile).ReadDir(2)
		got = append(got, names(part)...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadDir(2) in turn = %v, want %v", got, want)
	}
}

func TestTreeFSHidesSubmodules(t *testing.T) {
	srv := startServer(t)
	repo, err := srv.CreateRepo("submodule", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	base, err := repo.Commit("main", map[string]string{"app/cm.yaml": "kind: ConfigMap\n"}, nil, "base")
	if err != nil {
		t.Fatal(err)
	}
	// Add a gitlink entry "app/vendor" (mode 160000) with git's plumbing.
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo.Path()
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(),
			"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.test", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.test")
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	appTree := git("", "ls-tree", "main:app")
	newApp := git(appTree+"\n160000 commit "+base+"\tvendor\n", "mktree")
	rootTree := git("", "ls-tree", "main")
	newRoot := git(strings.Replace(rootTree, git("", "rev-parse", "main:app"), newApp, 1)+"\n", "mktree")
	commit := git("", "commit-tree", newRoot, "-p", "main", "-m", "add a submodule")
	git("", "update-ref", "refs/heads/main", commit)
	if got := git("", "ls-tree", "main:app"); !strings.Contains(got, "160000 commit") {
		t.Fatalf("no gitlink in the tree:\n%s", got)
	}

	c := newCache(t)
	snap, err := c.Snapshot(context.Background(), repo.HTTPURL(), commit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(snap.FS, "app/vendor"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a submodule = %v, want fs.ErrNotExist", err)
	}
	if _, err := fs.Lstat(snap.FS, "app/vendor"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat of a submodule = %v, want fs.ErrNotExist", err)
	}
	list, err := fs.ReadDir(snap.FS, "app")
	if err != nil || len(list) != 1 || list[0].Name() != "cm.yaml" {
		t.Errorf("ReadDir(app) = %v, %v; want only cm.yaml", list, err)
	}
	if err := fstest.TestFS(snap.FS, "app/cm.yaml"); err != nil {
		t.Error(err)
	}
}

func TestTreeFSConcurrentReads(t *testing.T) {
	var entries []gitserver.Entry
	want := map[string]string{}
	for i := range 60 {
		p := fmt.Sprintf("d%d/sub%d/f%d.yaml", i%4, i%7, i)
		data := fmt.Sprintf("n: %d\n%s", i, strings.Repeat("x", i*100))
		entries = append(entries, file(p, data))
		want[p] = data
	}
	entries = append(entries, link("d0/link", "../d1"))
	c, repo, snap := commitSnapshot(t, entries)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Go(func() {
			seen := 0
			err := fs.WalkDir(snap.FS, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				if _, err := d.Info(); err != nil {
					return err
				}
				if d.Type()&fs.ModeSymlink != 0 {
					_, err := fs.ReadDir(snap.FS, p)
					return err
				}
				var b []byte
				if g%2 == 0 {
					b, err = fs.ReadFile(snap.FS, p)
				} else {
					var f fs.File
					if f, err = snap.FS.Open(p); err == nil {
						b, err = io.ReadAll(f)
						f.Close()
					}
				}
				if err != nil {
					return err
				}
				if string(b) != want[p] {
					return fmt.Errorf("%s: read %d bytes, want %d", p, len(b), len(want[p]))
				}
				seen++
				return nil
			})
			if err == nil && seen != len(want) {
				err = fmt.Errorf("walk saw %d files, want %d", seen, len(want))
			}
			if err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := c.ContentHash(context.Background(), repo.HTTPURL(), snap.Commit, []string{fmt.Sprintf("d%d", g%4)}); err != nil {
				errs <- err
			}
		})
	}
	// A fetch of a newer commit writes to the same repository while the
	// snapshot is read; it then reads the new commit's files.
	wg.Go(func() {
		sha, err := repo.CommitEntries("main", []gitserver.Entry{file("d0/new.yaml", "new: true\n")}, nil, "newer")
		if err != nil {
			errs <- err
			return
		}
		next, err := c.Snapshot(context.Background(), repo.HTTPURL(), sha, nil)
		if err != nil {
			errs <- err
			return
		}
		if b, err := fs.ReadFile(next.FS, "d0/new.yaml"); err != nil || string(b) != "new: true\n" {
			errs <- fmt.Errorf("newer snapshot: d0/new.yaml = %q, %v", b, err)
		}
		if _, err := fs.Stat(snap.FS, "d0/new.yaml"); !errors.Is(err, fs.ErrNotExist) {
			errs <- fmt.Errorf("older snapshot sees d0/new.yaml: %v", err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
