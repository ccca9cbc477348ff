package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// typesDir is the folder of Dir that holds each object's content type, under the object's key. Its
// name starts with a dot, which no key segment does, so it never mixes with objects.
const typesDir = ".types"

// Dir is a Store of files under a directory: an object is the file at its key, its content type a
// small file of the same key under .types. Writes go through a temporary file and a rename, so a
// reader sees a whole object or none.
type Dir struct {
	root string
}

// NewDir returns the store of files under root, which it creates when missing.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }
func (d *Dir) typePath(key string) string {
	return filepath.Join(d.root, typesDir, filepath.FromSlash(key))
}
func badKey(key string) error { return fmt.Errorf("%w: %q", ErrBadKey, key) }

// Put implements Store.
func (d *Dir) Put(ctx context.Context, key, contentType string, body []byte) error {
	if !ValidKey(key) {
		return badKey(key)
	}
	if err := writeAtomic(d.typePath(key), []byte(contentType)); err != nil {
		return err
	}
	return writeAtomic(d.path(key), body)
}

// writeAtomic writes b to path through a temporary file in the same folder and a rename.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, key string) (Object, error) {
	if !ValidKey(key) {
		return Object{}, badKey(key)
	}
	body, err := os.ReadFile(d.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isDirErr(err) {
		return Object{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return Object{}, err
	}
	ct, err := os.ReadFile(d.typePath(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Object{}, err
	}
	return Object{Body: body, ContentType: string(ct)}, nil
}

// isDirErr reports whether err is the error of reading a folder as a file.
func isDirErr(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "is a directory")
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return badKey(key)
	}
	for _, p := range []string{d.path(key), d.typePath(key)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && !isDirErr(err) {
			return err
		}
	}
	return nil
}

// List implements Store.
func (d *Dir) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() && p != d.root {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) && ValidKey(key) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return keys, nil
}

// DeletePrefix implements Store.
func (d *Dir) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	if !validPrefix(prefix) {
		return 0, badKey(prefix)
	}
	keys, err := d.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := d.Delete(ctx, k); err != nil {
			return 0, err
		}
	}
	for _, p := range []string{d.path(prefix), d.typePath(prefix)} {
		if err := os.RemoveAll(p); err != nil {
			return len(keys), err
		}
	}
	return len(keys), nil
}
