package redistest

import (
	"fmt"
	"strconv"
)

// masterOffset returns the replication offset of master m: everything it
// wrote before the call is at or below it.
func masterOffset(m *Server) (int64, error) {
	info, err := Info(m.Addr(), "replication")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(info["master_repl_offset"], 10, 64)
}

// replicaReached reports, as an error when not, whether replica r has an up
// link to its master and has processed the replication stream up to offset.
func replicaReached(r *Server, offset int64) error {
	info, err := Info(r.Addr(), "replication")
	if err != nil {
		return err
	}
	if info["master_link_status"] != "up" {
		return fmt.Errorf("replica %s: master_link_status:%s", r.Addr(), info["master_link_status"])
	}
	got, err := strconv.ParseInt(info["slave_repl_offset"], 10, 64)
	if err != nil {
		return fmt.Errorf("replica %s: slave_repl_offset: %w", r.Addr(), err)
	}
	if got < offset {
		return fmt.Errorf("replica %s: offset %d, master at %d", r.Addr(), got, offset)
	}
	return nil
}
