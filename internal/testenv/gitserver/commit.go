package gitserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Author names the author and committer of a commit.
type Author struct{ Name, Email string }

// defaultAuthor is the author of commits made by Commit, CommitEntries,
// CommitDir and Tag: "Test Author <author@example.test>".
var defaultAuthor = Author{Name: "Test Author", Email: "author@example.test"}

// fileEntry is one file to write in a commit; path is slash-separated.
// A mode with os.ModeSymlink makes a symbolic link to data.
type fileEntry struct {
	path string
	data []byte
	mode os.FileMode
}

// Entry is one path written by CommitEntries.
type Entry struct {
	// Path is slash-separated and may name subdirectories.
	Path string
	// Data is the content; for a symbolic link, its target.
	Data string
	// Mode is 0 or 0o644 for a regular file, a mode with an executable bit
	// for an executable, or os.ModeSymlink for a symbolic link.
	Mode os.FileMode
}

// Commit writes files (path → content; paths are slash-separated and may
// name subdirectories), deletes the paths in remove (files or whole
// directories, which must exist), commits as "Test Author <author@example.test>" and pushes to
// branch. A branch that does not exist yet starts from main, or as an
// orphan when main does not exist either. An empty branch means main;
// every call makes a commit, even when nothing changed. It returns the new
// commit's id.
func (r *Repo) Commit(branch string, files map[string]string, remove []string, msg string) (string, error) {
	return r.CommitAs(defaultAuthor, branch, files, remove, msg)
}

// CommitAs is Commit with the given author, who is also the committer.
// Empty fields fall back to the default author's.
func (r *Repo) CommitAs(author Author, branch string, files map[string]string, remove []string, msg string) (string, error) {
	entries := make([]fileEntry, 0, len(files))
	for p, content := range files {
		entries = append(entries, fileEntry{path: p, data: []byte(content), mode: 0o644})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	return r.write(author, branch, entries, remove, msg)
}

// CommitEntries is Commit with modes: it writes regular files,
// executables and symbolic links. A path that holds a link or file is
// replaced, never written through.
func (r *Repo) CommitEntries(branch string, entries []Entry, remove []string, msg string) (string, error) {
	files := make([]fileEntry, 0, len(entries))
	for _, e := range entries {
		mode := os.FileMode(0o644)
		switch {
		case e.Mode&os.ModeType == os.ModeSymlink:
			if e.Data == "" {
				return "", fmt.Errorf("repo %q: commit to %q: symbolic link %q has no target", r.name, branch, e.Path)
			}
			mode = os.ModeSymlink
		case e.Mode&os.ModeType != 0:
			return "", fmt.Errorf("repo %q: commit to %q: %q: unsupported mode %v", r.name, branch, e.Path, e.Mode)
		case e.Mode&0o111 != 0:
			mode = 0o755
		}
		files = append(files, fileEntry{path: e.Path, data: []byte(e.Data), mode: mode})
	}
	return r.write(defaultAuthor, branch, files, remove, msg)
}

// CommitDir copies the files under srcDir into destPath ("" is the
// repository root), keeping executable bits, and commits them to branch as
// Commit does. Files already in the branch stay unless overwritten.
// ".git" directories are skipped; symbolic links and other special files
// are refused.
func (r *Repo) CommitDir(branch, srcDir, destPath, msg string) (string, error) {
	var entries []fileEntry
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(srcDir, p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		entries = append(entries, fileEntry{path: path.Join(destPath, filepath.ToSlash(rel)), data: data, mode: mode})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("repo %q: commit dir %s: %w", r.name, srcDir, err)
	}
	if len(entries) == 0 {
		return "", fmt.Errorf("repo %q: commit dir %s: no files", r.name, srcDir)
	}
	return r.write(defaultAuthor, branch, entries, nil, msg)
}

// write commits files and removals to branch in the work clone and pushes.
func (r *Repo) write(author Author, branch string, files []fileEntry, remove []string, msg string) (string, error) {
	if branch == "" {
		branch = "main"
	}
	if msg == "" {
		msg = "update " + branch
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("repo %q: commit to %q: %w", r.name, branch, err)
	}
	for i := range files {
		p, err := localPath(files[i].path)
		if err != nil {
			return fail(err)
		}
		files[i].path = p
	}
	removals := make([]string, len(remove))
	for i, p := range remove {
		lp, err := localPath(p)
		if err != nil {
			return fail(err)
		}
		removals[i] = lp
	}
	if !r.s.track() {
		return fail(errClosed)
	}
	defer r.s.active.Done()
	r.mu.Lock()
	defer r.mu.Unlock()

	if _, err := r.s.runGit(r.path, nil, "check-ref-format", "refs/heads/"+branch); err != nil {
		return fail(fmt.Errorf("invalid branch name: %w", err))
	}
	work, err := r.checkout(branch)
	if err != nil {
		return fail(err)
	}
	for _, p := range removals {
		if underLink(work, p) {
			return fail(fmt.Errorf("remove %q: a parent directory is a symbolic link", filepath.ToSlash(p)))
		}
		full := filepath.Join(work, p)
		if _, err := os.Lstat(full); err != nil {
			return fail(fmt.Errorf("remove %q: %w", filepath.ToSlash(p), err))
		}
		if err := os.RemoveAll(full); err != nil {
			return fail(fmt.Errorf("remove %q: %w", filepath.ToSlash(p), err))
		}
	}
	for _, f := range files {
		if underLink(work, f.path) {
			return fail(fmt.Errorf("write %q: a parent directory is a symbolic link", filepath.ToSlash(f.path)))
		}
		full := filepath.Join(work, f.path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fail(err)
		}
		if fi, err := os.Lstat(full); err == nil && (fi.Mode()&os.ModeSymlink != 0 || f.mode&os.ModeSymlink != 0) {
			if err := os.Remove(full); err != nil {
				return fail(err)
			}
		}
		if f.mode&os.ModeSymlink != 0 {
			if err := os.Symlink(string(f.data), full); err != nil {
				return fail(err)
			}
			continue
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return fail(err)
		}
		if err := os.Chmod(full, f.mode); err != nil {
			return fail(err)
		}
	}
	steps := [][]string{
		{"add", "--all"},
		{"commit", "--quiet", "--allow-empty", "--no-verify", "--message", msg},
		{"push", "--quiet", "origin", "HEAD:refs/heads/" + branch},
	}
	for _, args := range steps {
		if _, err := r.s.runGit(work, authorEnv(author), args...); err != nil {
			return fail(err)
		}
	}
	sha, err := r.s.runGit(work, nil, "rev-parse", "HEAD")
	if err != nil {
		return fail(err)
	}
	return sha, nil
}

// checkout prepares the work clone with a clean tree of branch as the
// server has it: the branch itself, else main, else an empty orphan.
func (r *Repo) checkout(branch string) (string, error) {
	if r.workDir == "" {
		parent := filepath.Join(r.s.scratch, "work")
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", err
		}
		dir, err := os.MkdirTemp(parent, "clone-")
		if err != nil {
			return "", err
		}
		if _, err := r.s.runGit(dir, nil, "init", "--quiet", "--initial-branch=main"); err != nil {
			return "", err
		}
		if _, err := r.s.runGit(dir, nil, "remote", "add", "origin", r.path); err != nil {
			return "", err
		}
		r.workDir = dir
	}
	git := func(args ...string) error {
		_, err := r.s.runGit(r.workDir, nil, args...)
		return err
	}
	if err := git("fetch", "--quiet", "--prune", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*"); err != nil {
		return "", err
	}
	base := ""
	for _, b := range []string{branch, "main"} {
		if git("show-ref", "--verify", "--quiet", "refs/remotes/origin/"+b) == nil {
			base = "origin/" + b
			break
		}
	}
	var steps [][]string
	if base != "" {
		steps = [][]string{{"checkout", "--quiet", "--force", "--no-track", "-B", branch, base}}
	} else {
		steps = [][]string{
			{"symbolic-ref", "HEAD", "refs/heads/" + branch},
			{"update-ref", "-d", "refs/heads/" + branch},
			{"read-tree", "--empty"},
		}
	}
	steps = append(steps, []string{"clean", "--quiet", "--force", "-d", "-x"})
	for _, args := range steps {
		if err := git(args...); err != nil {
			return "", err
		}
	}
	return r.workDir, nil
}

// underLink reports whether a parent directory of p (relative to work) is
// a symbolic link in the work clone.
func underLink(work, p string) bool {
	for d := filepath.Dir(p); d != "." && d != string(filepath.Separator); d = filepath.Dir(d) {
		if fi, err := os.Lstat(filepath.Join(work, d)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

// localPath checks a slash-separated path inside the repository and
// returns it in the OS's form.
func localPath(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path %q must be relative", p)
	}
	clean := path.Clean(p)
	if !filepath.IsLocal(filepath.FromSlash(clean)) {
		return "", fmt.Errorf("path %q escapes the repository", p)
	}
	for _, seg := range strings.Split(clean, "/") {
		if strings.EqualFold(seg, ".git") {
			return "", fmt.Errorf("path %q names a .git directory", p)
		}
	}
	if clean == "." {
		return "", errors.New("path is empty")
	}
	return filepath.FromSlash(clean), nil
}

// authorEnv sets author and committer, falling back to defaultAuthor.
func authorEnv(a Author) []string {
	if a.Name == "" {
		a.Name = defaultAuthor.Name
	}
	if a.Email == "" {
		a.Email = defaultAuthor.Email
	}
	return []string{
		"GIT_AUTHOR_NAME=" + a.Name, "GIT_AUTHOR_EMAIL=" + a.Email,
		"GIT_COMMITTER_NAME=" + a.Name, "GIT_COMMITTER_EMAIL=" + a.Email,
	}
}
