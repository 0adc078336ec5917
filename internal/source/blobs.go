package source

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// blobStore keeps chart archives on disk by their SHA-256, so a restart
// does not download again what a repository's index or a registry's
// manifest names by the same digest. A blob is only used when its digest
// is known beforehand, and it is checked on every read: a file that does
// not match is removed. Beyond max bytes, the least recently used blobs go.
type blobStore struct {
	dir string
	max int64
	mu  sync.Mutex
}

func newBlobStore(dir string, max int64) *blobStore {
	if dir == "" {
		return nil
	}
	return &blobStore{dir: dir, max: max}
}

// sha256Hex returns the hex of a "sha256:HEX" (or bare HEX) digest, or ""
// when it is not one.
func sha256Hex(digest string) string {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(digest)), "sha256:")
	if len(h) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(h); err != nil {
		return ""
	}
	return h
}

// get returns the blob with the digest, if stored and intact.
func (b *blobStore) get(digest string) ([]byte, bool) {
	h := sha256Hex(digest)
	if b == nil || h == "" {
		return nil, false
	}
	p := filepath.Join(b.dir, h)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != h {
		_ = os.Remove(p) // damaged: download again
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // most recently used
	return data, true
}

// put stores data under its SHA-256 and trims the store to its size.
// Failures only cost a later download.
func (b *blobStore) put(data []byte) {
	if b == nil || int64(len(data)) > b.max {
		return
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(b.dir, ".tmp-")
	if err != nil {
		return
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(b.dir, h))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	b.trim()
}

// trim removes the least recently used blobs beyond max bytes. Call with
// b.mu held.
func (b *blobStore) trim() {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return
	}
	type blob struct {
		path string
		size int64
		used time.Time
	}
	var blobs []blob
	var total int64
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") && time.Since(fi.ModTime()) > time.Hour {
			_ = os.Remove(filepath.Join(b.dir, e.Name())) // left by a crash
			continue
		}
		blobs = append(blobs, blob{filepath.Join(b.dir, e.Name()), fi.Size(), fi.ModTime()})
		total += fi.Size()
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].used.Before(blobs[j].used) })
	for _, bl := range blobs {
		if total <= b.max {
			break
		}
		if os.Remove(bl.path) == nil {
			total -= bl.size
		}
	}
}
