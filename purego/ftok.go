package purego

import "golang.org/x/sys/unix"

// Ftok is ftok(3) computed exactly as glibc does: stat(2) the path (following
// symbolic links) and combine the low 16 bits of the inode, the low 8 bits of
// the device number and the low 8 bits of proj:
//
//	key = (st_ino & 0xffff) | ((st_dev & 0xff) << 16) | ((proj & 0xff) << 24)
//
// The result is the C key_t (a 32-bit int) widened to int, so it is negative
// when proj&0x80 is set. On error it returns -1 and the errno of stat.
func Ftok(path string, proj int) (int, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return -1, errnoOf(err)
	}
	k := uint32(st.Ino&0xffff) | uint32(st.Dev&0xff)<<16 | uint32(proj&0xff)<<24
	return int(int32(k)), nil
}
