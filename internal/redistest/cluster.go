package redistest

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// ClusterConfig configures StartClusterConfig.
type ClusterConfig struct {
	// Masters is the number of masters; the hash slots are split evenly
	// between them in order. Default 3.
	Masters int
	// ReplicasPerMaster is how many replicas each master gets. Default 0.
	ReplicasPerMaster int
	// NodeTimeout is cluster-node-timeout: how long a node may be unreachable
	// before the others flag it failing. Default one second.
	NodeTimeout time.Duration
	// Args are extra redis-server arguments for every node, for example
	// "--cluster-require-full-coverage", "no". Default none.
	Args []string
	// Timeout bounds the creation of the cluster. Default 30 seconds.
	Timeout time.Duration
}

// Cluster is a Redis Cluster of redis-server processes owned by a test. Each
// node keeps its nodes.conf in its directory, so a node that was stopped or
// killed and is restarted rejoins the cluster with the same identity (but,
// being non-persistent, without its data).
type Cluster struct {
	// immutable after StartClusterConfig
	tb       testing.TB
	cfg      ClusterConfig
	nodes    []*Server // masters first, then replicas (replica j of master i at Masters+i*ReplicasPerMaster+j)
	busPorts []int     // cluster bus port of nodes[i]
	ids      []string  // node id of nodes[i]
}

// StartCluster starts a cluster of masters masters without replicas and waits
// until every node reports cluster_state:ok.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	return StartClusterConfig(tb, ClusterConfig{Masters: masters})
}

// StartClusterConfig starts a cluster as cfg says and waits until it is OK
// (see WaitOK) and every replica is in sync with its master. The cluster is
// created with plain commands: CLUSTER SET-CONFIG-EPOCH, ADDSLOTSRANGE, MEET
// and REPLICATE, as redis-cli --cluster create does.
func StartClusterConfig(tb testing.TB, cfg ClusterConfig) *Cluster {
	tb.Helper()
	if cfg.Masters == 0 {
		cfg.Masters = 3
	}
	if cfg.NodeTimeout == 0 {
		cfg.NodeTimeout = time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Masters < 0 || cfg.Masters > SlotCount || cfg.ReplicasPerMaster < 0 {
		tb.Fatalf("redistest: cluster of %d masters with %d replicas each", cfg.Masters, cfg.ReplicasPerMaster)
	}
	c := &Cluster{tb: tb, cfg: cfg}
	n := cfg.Masters * (1 + cfg.ReplicasPerMaster)
	for range n {
		var bus int
		s := newServer(tb, func(dir string, port int) []string {
			bus = freePortExcept(tb, port)
			return append(append(standardArgs(dir, port),
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				"--cluster-node-timeout", strconv.FormatInt(cfg.NodeTimeout.Milliseconds(), 10),
				"--cluster-port", strconv.Itoa(bus),
			), cfg.Args...)
		})
		c.nodes = append(c.nodes, s)
		c.busPorts = append(c.busPorts, bus)
	}
	if err := c.create(); err != nil {
		tb.Fatalf("redistest: create cluster: %v\n%s", err, c.logs())
	}
	c.WaitOK(cfg.Timeout)
	c.WaitReplicasSynced(cfg.Timeout)
	return c
}

// freePortExcept returns a free port other than not (FreePort may hand out a
// port that was just released).
func freePortExcept(tb testing.TB, not int) int {
	for {
		if p := FreePort(tb); p != not {
			return p
		}
	}
}

func (c *Cluster) create() error {
	for i, s := range c.nodes {
		id, err := callString(s.Addr(), "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		c.ids = append(c.ids, id)
		// Distinct epochs spare the nodes an epoch-collision round.
		if _, err := s.Call("CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	for i := range c.cfg.Masters {
		first := i * SlotCount / c.cfg.Masters
		last := (i+1)*SlotCount/c.cfg.Masters - 1
		if _, err := c.nodes[i].Call("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last)); err != nil {
			return err
		}
	}
	for i, s := range c.nodes[1:] {
		if _, err := c.nodes[0].Call("CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(s.Port()),
			strconv.Itoa(c.busPorts[i+1])); err != nil {
			return err
		}
	}
	// A replica can only REPLICATE a master it knows.
	for i, r := range c.nodes[c.cfg.Masters:] {
		master := c.ids[i/c.cfg.ReplicasPerMaster]
		err := retryUntil(c.cfg.Timeout, func() error {
			_, err := r.Call("CLUSTER", "REPLICATE", master)
			return err
		})
		if err != nil {
			return fmt.Errorf("replica %s: %w", r.Addr(), err)
		}
	}
	// Every node must know every replica's role before WaitOK's checks mean
	// anything for replicas.
	return retryUntil(c.cfg.Timeout, func() error {
		for _, s := range c.nodes {
			view, err := clusterNodes(s.Addr())
			if err != nil {
				return err
			}
			for i, id := range c.ids[c.cfg.Masters:] {
				want := c.ids[i/c.cfg.ReplicasPerMaster]
				if n, ok := view[id]; !ok || n.master != want {
					return fmt.Errorf("%s does not see %s as a replica of %s yet", s.Addr(), id, want)
				}
			}
		}
		return nil
	})
}

// Addrs returns the addresses of every node, masters first, as a cluster
// client's seed list.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		out[i] = s.Addr()
	}
	return out
}

// Nodes returns every node, masters first then replicas, in creation order;
// tests may Kill, Stop and Restart them.
func (c *Cluster) Nodes() []*Server { return slices.Clone(c.nodes) }

// Masters returns the nodes created as masters; node i served the i-th
// share of the slots at creation.
func (c *Cluster) Masters() []*Server { return slices.Clone(c.nodes[:c.cfg.Masters]) }

// Replicas returns the replicas created for master i.
func (c *Cluster) Replicas(i int) []*Server {
	first := c.cfg.Masters + i*c.cfg.ReplicasPerMaster
	return slices.Clone(c.nodes[first : first+c.cfg.ReplicasPerMaster])
}

// NodeID returns the cluster node id of s.
func (c *Cluster) NodeID(s *Server) string {
	if i := slices.Index(c.nodes, s); i >= 0 {
		return c.ids[i]
	}
	return ""
}

// Stop stops every node. It is idempotent; cleanup calls it anyway.
func (c *Cluster) Stop() {
	for _, s := range c.nodes {
		s.Stop()
	}
}

// node returns the node listening on port, or nil.
func (c *Cluster) node(port int) *Server {
	for _, s := range c.nodes {
		if s.Port() == port {
			return s
		}
	}
	return nil
}

// running returns the nodes that are running.
func (c *Cluster) running() []*Server {
	var out []*Server
	for _, s := range c.nodes {
		if s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// MasterFor returns the master that serves key's slot in the view of the
// first running node. It fails the test when no running node answers or the
// slot is not served.
func (c *Cluster) MasterFor(key string) *Server {
	c.tb.Helper()
	slot := KeySlot(key)
	var err error
	for _, s := range c.running() {
		var ranges []slotRange
		if ranges, err = clusterSlots(s.Addr()); err != nil {
			continue
		}
		if m := c.node(masterOf(ranges, slot)); m != nil {
			return m
		}
		err = fmt.Errorf("slot %d is not served in the view of %s", slot, s.Addr())
		break
	}
	c.tb.Fatalf("redistest: master for %q: %v", key, err)
	return nil
}

// WaitOK waits until the cluster is healthy in the view of every running
// node: cluster_state:ok, every slot served by a running master, the same
// slot map on every node, and every running node known, connected and not
// flagged failing. After a master without replica dies it does not return
// until the master is restarted; after a master with a replica dies it waits
// for the failover. It fails the test after timeout.
func (c *Cluster) WaitOK(timeout time.Duration) {
	c.tb.Helper()
	if err := retryUntil(timeout, c.ok); err != nil {
		c.tb.Fatalf("redistest: cluster not OK: %v\n%s", err, c.logs())
	}
}

func (c *Cluster) ok() error {
	running := c.running()
	if len(running) == 0 {
		return errors.New("no node is running")
	}
	var first []slotRange
	for _, s := range running {
		info, err := callString(s.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if state := parseFields(info, ":")["cluster_state"]; state != "ok" {
			return fmt.Errorf("%s: cluster_state:%s", s.Addr(), state)
		}
		view, err := clusterNodes(s.Addr())
		if err != nil {
			return err
		}
		for _, other := range running {
			n, ok := view[c.NodeID(other)]
			switch {
			case !ok:
				return fmt.Errorf("%s does not know %s", s.Addr(), other.Addr())
			case n.has("fail") || n.has("fail?") || n.has("handshake") || n.has("noaddr"):
				return fmt.Errorf("%s sees %s as %v", s.Addr(), other.Addr(), n.flags)
			case !n.has("myself") && n.link != "connected":
				return fmt.Errorf("%s sees %s %s", s.Addr(), other.Addr(), n.link)
			}
		}
		ranges, err := clusterSlots(s.Addr())
		if err != nil {
			return err
		}
		if !coversAll(ranges) {
			return fmt.Errorf("%s: slots not all served: %v", s.Addr(), ranges)
		}
		for _, r := range ranges {
			if m := c.node(r.masterPort); m == nil || !m.Running() {
				return fmt.Errorf("%s: slots %d-%d served by stopped node %d", s.Addr(), r.first, r.last, r.masterPort)
			}
		}
		if first == nil {
			first = ranges
		} else if !slices.Equal(first, ranges) {
			return fmt.Errorf("slot maps differ: %v and %s: %v", first, s.Addr(), ranges)
		}
	}
	return nil
}

// WaitReplicasSynced waits until every running node that is a replica has an
// up link to its master and has received everything the master had written
// when the wait began (replication offsets), so that a write acknowledged
// before the call survives the master's death. It fails the test after
// timeout.
func (c *Cluster) WaitReplicasSynced(timeout time.Duration) {
	c.tb.Helper()
	targets := map[*Server]int64{} // replica -> master offset to reach
	err := retryUntil(timeout, func() error {
		for _, s := range c.running() {
			info, err := Info(s.Addr(), "replication")
			if err != nil {
				return err
			}
			if info["role"] != "slave" {
				continue
			}
			if _, ok := targets[s]; !ok {
				port, _ := strconv.Atoi(info["master_port"])
				m := c.node(port)
				if m == nil {
					return fmt.Errorf("%s replicates unknown %s", s.Addr(), info["master_port"])
				}
				off, err := masterOffset(m)
				if err != nil {
					return err
				}
				targets[s] = off
			}
			if err := replicaReached(s, targets[s]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.tb.Fatalf("redistest: cluster replicas not in sync: %v", err)
	}
}

// logs returns the tail of every node's log, for failure messages.
func (c *Cluster) logs() string {
	var b []byte
	for _, s := range c.nodes {
		b = fmt.Appendf(b, "--- %s\n%s\n", s.Addr(), tail(s.Log(), 2000))
	}
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
