package redistest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// clusterNode is one line of CLUSTER NODES: what one node believes about
// another (or itself).
type clusterNode struct {
	id     string
	port   int
	flags  []string // myself, master, slave, fail?, fail, handshake, noaddr, ...
	master string   // id of its master, "-" for a master
	link   string   // connected or disconnected
}

func (n clusterNode) has(flag string) bool { return slices.Contains(n.flags, flag) }

// clusterNodes returns the view of the node at addr, by node id.
func clusterNodes(addr string) (map[string]clusterNode, error) {
	text, err := callString(addr, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	out := map[string]clusterNode{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("redistest: CLUSTER NODES line %q", line)
		}
		// ip:port@cport[,hostname]
		hostPort, _, _ := strings.Cut(f[1], "@")
		_, portText, _ := strings.Cut(hostPort, ":")
		port, err := strconv.Atoi(portText)
		if err != nil {
			return nil, fmt.Errorf("redistest: CLUSTER NODES address %q", f[1])
		}
		out[f[0]] = clusterNode{id: f[0], port: port, flags: strings.Split(f[2], ","), master: f[3], link: f[7]}
	}
	return out, nil
}

// slotRange is one entry of CLUSTER SLOTS: slots first..last are served by
// the master on masterPort.
type slotRange struct {
	first, last int
	masterPort  int
}

// clusterSlots returns the slot map as the node at addr sees it, sorted.
func clusterSlots(addr string) ([]slotRange, error) {
	v, err := Call(addr, "CLUSTER", "SLOTS")
	if err != nil {
		return nil, err
	}
	entries, _ := v.([]any)
	out := make([]slotRange, 0, len(entries))
	for _, e := range entries {
		fields, _ := e.([]any)
		if len(fields) < 3 {
			return nil, fmt.Errorf("redistest: CLUSTER SLOTS entry %v", e)
		}
		first, ok1 := fields[0].(int64)
		last, ok2 := fields[1].(int64)
		master, _ := fields[2].([]any)
		if !ok1 || !ok2 || len(master) < 2 {
			return nil, fmt.Errorf("redistest: CLUSTER SLOTS entry %v", e)
		}
		port, ok := master[1].(int64)
		if !ok {
			return nil, fmt.Errorf("redistest: CLUSTER SLOTS entry %v", e)
		}
		out = append(out, slotRange{first: int(first), last: int(last), masterPort: int(port)})
	}
	slices.SortFunc(out, func(a, b slotRange) int { return a.first - b.first })
	return out, nil
}

// coversAll reports whether the sorted ranges serve every slot.
func coversAll(ranges []slotRange) bool {
	next := 0
	for _, r := range ranges {
		if r.first != next {
			return false
		}
		next = r.last + 1
	}
	return next == SlotCount
}

// masterOf returns the port of the master serving slot, or 0.
func masterOf(ranges []slotRange, slot int) int {
	for _, r := range ranges {
		if r.first <= slot && slot <= r.last {
			return r.masterPort
		}
	}
	return 0
}
