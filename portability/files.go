package portability

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ReadFile reads a configuration file of at most MaxFileSize bytes. A
// file that does not exist gives nil content and exists false.
func ReadFile(path string) (data []byte, exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, true, err
	}
	if len(data) > MaxFileSize {
		return nil, true, fmt.Errorf("%s: file too large (more than %d bytes)", path, MaxFileSize)
	}
	return data, true, nil
}

// BackupSuffix starts the name of a backup: FILE.bak-20060102-150405.
const BackupSuffix = ".bak-"

// WriteFile replaces the file at path with content. When the file
// exists, a copy of it is first written to path.bak-<timestamp> (mode
// 0600; a -N suffix keeps earlier backups of the same second), and the
// backup's path is returned. The content is written to a temporary file
// in the same directory, with the original's permissions (0600 for a new
// file), synced, and renamed over the file, so that a reader sees the old
// or the new content, never a mix. A symbolic link is followed: the file
// it points to is replaced. A missing directory is created (0700).
func WriteFile(path string, content []byte, now time.Time) (backup string, err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	mode := fs.FileMode(0o600)
	old, exists, err := ReadFile(path)
	if err != nil {
		return "", err
	}
	if exists {
		fi, err := os.Stat(path)
		if err != nil {
			return "", err
		}
		mode = fi.Mode().Perm()
		if backup, err = writeBackup(path, old, now); err != nil {
			return "", err
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return backup, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err != nil {
		return backup, err
	}
	if _, err = tmp.Write(content); err != nil {
		return backup, err
	}
	if err = tmp.Sync(); err != nil {
		return backup, err
	}
	if err = tmp.Close(); err != nil {
		return backup, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return backup, err
	}
	return backup, nil
}

// writeBackup writes data to a new backup file of path.
func writeBackup(path string, data []byte, now time.Time) (string, error) {
	base := path + BackupSuffix + now.Format("20060102-150405")
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 1000 {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			os.Remove(name)
			return "", err
		}
		if err := f.Close(); err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
}
