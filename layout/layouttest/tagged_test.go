//go:build layouttest_tagged

package layouttest

func init() { taggedBuild = true }
