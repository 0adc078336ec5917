package source

import (
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

var (
	errIsDir  error = syscall.EISDIR
	errNotDir error = syscall.ENOTDIR
)

// memFS is a read-only file system held in memory: regular files and the
// directories that hold them, no symbolic links. It implements fs.StatFS,
// fs.ReadDirFS, fs.ReadFileFS and fs.ReadLinkFS, and is safe for
// concurrent use once built.
type memFS struct {
	files map[string][]byte   // clean slash paths, no leading "/"
	dirs  map[string][]string // directory -> sorted child names; "." is the root
	mtime time.Time
	size  int64 // total bytes of the files
}

func newMemFS(mtime time.Time) *memFS {
	return &memFS{files: map[string][]byte{}, dirs: map[string][]string{".": nil}, mtime: mtime}
}

// add stores a file at the clean, relative slash path name, creating its
// parent directories. It reports false when name is taken (by a file or a
// directory) or one of its parents is a file.
func (m *memFS) add(name string, data []byte) bool {
	if _, ok := m.files[name]; ok {
		return false
	}
	if _, ok := m.dirs[name]; ok {
		return false
	}
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if _, ok := m.files[d]; ok {
			return false
		}
	}
	m.files[name] = data
	m.size += int64(len(data))
	child := name
	for {
		parent := path.Dir(child)
		kids, exists := m.dirs[parent]
		base := path.Base(child)
		if i, found := slices.BinarySearch(kids, base); !found {
			m.dirs[parent] = slices.Insert(kids, i, base)
		}
		if exists || parent == "." {
			break
		}
		child = parent
	}
	return true
}

func (m *memFS) lookup(op, name string) (data []byte, dir bool, err error) {
	if !fs.ValidPath(name) {
		return nil, false, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if d, ok := m.files[name]; ok {
		return d, false, nil
	}
	if _, ok := m.dirs[name]; ok {
		return nil, true, nil
	}
	return nil, false, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) info(name string, data []byte, dir bool) *fileInfo {
	fi := &fileInfo{name: path.Base(name), size: int64(len(data)), mode: 0o444, mtime: m.mtime}
	if dir {
		fi.size, fi.mode = 0, fs.ModeDir|0o555
	}
	return fi
}

func (m *memFS) Open(name string) (fs.File, error) {
	data, dir, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if dir {
		return &memDir{fs: m, name: name}, nil
	}
	return &memFile{info: m.info(name, data, false), r: strings.NewReader(string(data))}, nil
}

func (m *memFS) Stat(name string) (fs.FileInfo, error) {
	data, dir, err := m.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return m.info(name, data, dir), nil
}

// Lstat is Stat: there are no symbolic links.
func (m *memFS) Lstat(name string) (fs.FileInfo, error) {
	data, dir, err := m.lookup("lstat", name)
	if err != nil {
		return nil, err
	}
	return m.info(name, data, dir), nil
}

func (m *memFS) ReadLink(name string) (string, error) {
	if _, _, err := m.lookup("readlink", name); err != nil {
		return "", err
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
}

func (m *memFS) ReadFile(name string) ([]byte, error) {
	data, dir, err := m.lookup("read", name)
	if err != nil {
		return nil, err
	}
	if dir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errIsDir}
	}
	return slices.Clone(data), nil
}

func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	_, dir, err := m.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	kids := m.dirs[name]
	out := make([]fs.DirEntry, 0, len(kids))
	for _, k := range kids {
		p := path.Join(name, k)
		data, isDir, _ := m.lookup("readdir", p)
		out = append(out, fs.FileInfoToDirEntry(m.info(p, data, isDir)))
	}
	return out, nil
}

type memFile struct {
	info *fileInfo
	r    *strings.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	fs   *memFS
	name string
	read int // entries already returned by ReadDir
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.fs.info(d.name, nil, true), nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errIsDir}
}
func (d *memDir) Close() error { return nil }

func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	all, _ := d.fs.ReadDir(d.name)
	rest := all[d.read:]
	if n <= 0 {
		d.read = len(all)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.read += len(rest)
	return rest, nil
}
