package source

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrLinkEscapes is the error of a lookup through a symbolic link whose
// target is absolute or climbs above the repository's root.
var ErrLinkEscapes = errors.New("symbolic link points outside the repository")

// maxLinks bounds the symbolic links followed in one lookup.
const maxLinks = 40

// maxLinkTarget bounds the length of a symbolic link's target.
const maxLinkTarget = 4096

// treeFS is a read-only file system over the tree of one commit, read
// lazily from the bare repository of e. Every lookup and read holds e.mu
// only while it touches the repository. It is safe for concurrent use.
type treeFS struct {
	e     *repoEntry
	root  plumbing.Hash // the commit's root tree
	mtime time.Time     // the commit's author time, every entry's ModTime
}

var (
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.ReadLinkFS = (*treeFS)(nil)
)

// node is a resolved tree entry.
type node struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

func (n node) isDir() bool { return n.mode == filemode.Dir }

// dirNode is a directory on the path of a lookup.
type dirNode struct {
	hash plumbing.Hash
	tree *object.Tree
}

// lookup resolves name, following symbolic links in every component but
// the last, and in the last too when follow is set. Call with e.mu held.
func (f *treeFS) lookup(name string, follow bool) (node, error) {
	root, err := f.e.tree(f.root)
	if err != nil {
		return node{}, err
	}
	stack := []dirNode{{f.root, root}}
	var leaf *node // a resolved non-directory; nothing may follow it
	links := 0
	for rest := name; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		if leaf != nil {
			return node{}, syscall.ENOTDIR
		}
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return node{}, ErrLinkEscapes
			}
			stack = stack[:len(stack)-1]
			continue
		}
		ent, err := stack[len(stack)-1].tree.FindEntry(c)
		if err != nil {
			return node{}, fs.ErrNotExist
		}
		switch ent.Mode {
		case filemode.Submodule:
			return node{}, fs.ErrNotExist
		case filemode.Dir:
			t, err := f.e.tree(ent.Hash)
			if err != nil {
				return node{}, err
			}
			stack = append(stack, dirNode{ent.Hash, t})
		case filemode.Symlink:
			if rest == "" && !follow {
				leaf = &node{ent.Mode, ent.Hash}
				continue
			}
			if links++; links > maxLinks {
				return node{}, syscall.ELOOP
			}
			b, err := f.e.readBlob(ent.Hash, maxLinkTarget)
			if err != nil {
				return node{}, err
			}
			target := string(b)
			switch {
			case target == "":
				return node{}, fs.ErrNotExist
			case strings.HasPrefix(target, "/"):
				return node{}, ErrLinkEscapes
			case strings.HasSuffix(target, "/"):
				target += "." // the target must be a directory
			}
			if rest != "" {
				target += "/" + rest
			}
			rest = target
		default:
			leaf = &node{ent.Mode, ent.Hash}
		}
	}
	if leaf != nil {
		return *leaf, nil
	}
	return node{filemode.Dir, stack[len(stack)-1].hash}, nil
}

// readBlob returns the content of a blob; limit >= 0 refuses larger
// blobs. Call with e.mu held.
func (e *repoEntry) readBlob(h plumbing.Hash, limit int64) ([]byte, error) {
	r, err := e.open()
	if err != nil {
		return nil, err
	}
	obj, err := r.Storer.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	if limit >= 0 && obj.Size() > limit {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", h, limit)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(rd, data); err != nil {
		return nil, err
	}
	return data, nil
}

// size returns the size of n without reading a blob's content. Call with
// e.mu held.
func (f *treeFS) size(n node) (int64, error) {
	if n.isDir() {
		return 0, nil
	}
	r, err := f.e.open()
	if err != nil {
		return 0, err
	}
	return r.Storer.EncodedObjectSize(n.hash)
}

// resolve is lookup with name checked and the lock taken; with stat set
// it also returns n's FileInfo.
func (f *treeFS) resolve(op, name string, follow, stat bool) (node, fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return node{}, nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	f.e.mu.Lock()
	n, err := f.lookup(name, follow)
	var size int64
	if err == nil && stat {
		size, err = f.size(n)
	}
	f.e.mu.Unlock()
	if err != nil {
		return node{}, nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	var info fs.FileInfo
	if stat {
		info = f.info(path.Base(name), n.mode, size)
	}
	return n, info, nil
}

func (f *treeFS) info(name string, m filemode.FileMode, size int64) *fileInfo {
	return &fileInfo{name: name, size: size, mode: fileMode(m), mtime: f.mtime}
}

// nodeInfo is the FileInfo of the resolved node n, called name; errors
// name opened, the path it was reached by.
func (f *treeFS) nodeInfo(opened, name string, n node) (fs.FileInfo, error) {
	f.e.mu.Lock()
	size, err := f.size(n)
	f.e.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: opened, Err: err}
	}
	return f.info(name, n.mode, size), nil
}

// fileMode maps a Git mode to a read-only fs.FileMode.
func fileMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o555
	default:
		return 0o444
	}
}

// Open implements fs.FS. A directory is an fs.ReadDirFile; a file's
// content is read on its first Read, ReadAt or Seek.
func (f *treeFS) Open(name string) (fs.File, error) {
	n, _, err := f.resolve("open", name, true, false)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return &treeDir{fsys: f, name: name, hash: n.hash}, nil
	}
	return &treeFile{fsys: f, name: name, node: n}, nil
}

// Stat implements fs.StatFS.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	_, info, err := f.resolve("stat", name, true, true)
	return info, err
}

// Lstat implements fs.ReadLinkFS: a symbolic link in the last component
// is not followed.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) {
	_, info, err := f.resolve("lstat", name, false, true)
	return info, err
}

// ReadLink implements fs.ReadLinkFS. It returns the target as stored,
// even one that points outside the repository.
func (f *treeFS) ReadLink(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	f.e.mu.Lock()
	n, err := f.lookup(name, false)
	var target []byte
	if err == nil {
		if n.mode != filemode.Symlink {
			err = fs.ErrInvalid // not a symbolic link
		} else {
			target, err = f.e.readBlob(n.hash, maxLinkTarget)
		}
	}
	f.e.mu.Unlock()
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(target), nil
}

// ReadFile implements fs.ReadFileFS.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	op := "open"
	f.e.mu.Lock()
	n, err := f.lookup(name, true)
	var data []byte
	if err == nil {
		op = "read"
		if n.isDir() {
			err = syscall.EISDIR
		} else {
			data, err = f.e.readBlob(n.hash, -1)
		}
	}
	f.e.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return data, nil
}

// ReadDir implements fs.ReadDirFS: entries sorted by name, submodules
// left out.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, _, err := f.resolve("open", name, true, false)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	list, err := f.list(n.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return list, nil
}

// list returns the entries of the tree h sorted by name.
func (f *treeFS) list(h plumbing.Hash) ([]fs.DirEntry, error) {
	f.e.mu.Lock()
	t, err := f.e.tree(h)
	var ents []dirEntry
	if err == nil {
		ents = make([]dirEntry, 0, len(t.Entries))
		for _, te := range t.Entries {
			if te.Mode == filemode.Submodule || !validName(te.Name) {
				continue
			}
			ents = append(ents, dirEntry{fsys: f, name: te.Name, node: node{te.Mode, te.Hash}})
		}
	}
	f.e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Git orders a directory as if its name ended in "/".
	slices.SortFunc(ents, func(a, b dirEntry) int { return strings.Compare(a.name, b.name) })
	list := make([]fs.DirEntry, len(ents))
	for i := range ents {
		list[i] = &ents[i]
	}
	return list, nil
}

// validName reports whether a tree entry name can be looked up.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.Contains(name, "/")
}

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return i.mtime }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }
func (i *fileInfo) String() string     { return fs.FormatFileInfo(i) }

// dirEntry implements fs.DirEntry; Info reads the size, never the content.
type dirEntry struct {
	fsys *treeFS
	name string
	node node
}

func (d *dirEntry) Name() string      { return d.name }
func (d *dirEntry) IsDir() bool       { return d.node.isDir() }
func (d *dirEntry) Type() fs.FileMode { return fileMode(d.node.mode).Type() }
func (d *dirEntry) String() string    { return fs.FormatDirEntry(d) }

func (d *dirEntry) Info() (fs.FileInfo, error) {
	return d.fsys.nodeInfo(d.name, d.name, d.node)
}

// treeDir is an open directory.
type treeDir struct {
	fsys   *treeFS
	name   string
	hash   plumbing.Hash
	list   []fs.DirEntry // read on the first ReadDir
	read   bool
	closed bool
}

func (d *treeDir) Stat() (fs.FileInfo, error) {
	return d.fsys.info(path.Base(d.name), filemode.Dir, 0), nil
}

func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}

func (d *treeDir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir implements fs.ReadDirFile.
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if !d.read {
		list, err := d.fsys.list(d.hash)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
		}
		d.list, d.read = list, true
	}
	if n <= 0 {
		list := d.list
		d.list = nil
		if list == nil {
			list = []fs.DirEntry{}
		}
		return list, nil
	}
	if len(d.list) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.list))
	list := d.list[:n:n]
	d.list = d.list[n:]
	return list, nil
}

// treeFile is an open file; its content is read on first use.
type treeFile struct {
	fsys   *treeFS
	name   string
	node   node
	data   []byte // nil until loaded
	off    int64
	closed bool
}

func (f *treeFile) Stat() (fs.FileInfo, error) {
	if f.data != nil {
		return f.fsys.info(path.Base(f.name), f.node.mode, int64(len(f.data))), nil
	}
	return f.fsys.nodeInfo(f.name, path.Base(f.name), f.node)
}

// load reads the content once.
func (f *treeFile) load(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if f.data != nil {
		return nil
	}
	f.fsys.e.mu.Lock()
	data, err := f.fsys.e.readBlob(f.node.hash, -1)
	f.fsys.e.mu.Unlock()
	if err != nil {
		return &fs.PathError{Op: op, Path: f.name, Err: err}
	}
	f.data = data
	return nil
}

func (f *treeFile) Read(p []byte) (int, error) {
	if err := f.load("read"); err != nil {
		return 0, err
	}
	if f.off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.off:])
	f.off += int64(n)
	return n, nil
}

// ReadAt implements io.ReaderAt.
func (f *treeFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.load("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Seek implements io.Seeker.
func (f *treeFile) Seek(offset int64, whence int) (int64, error) {
	if err := f.load("seek"); err != nil {
		return 0, err
	}
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += int64(len(f.data))
	case io.SeekStart:
	default:
		offset = -1
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

func (f *treeFile) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	f.data = nil
	return nil
}
