package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// report prints the Markdown table and the summary line, and returns how
// many phases failed (phases that did not run count as failed).
func report(w io.Writer, results []result, c *chaos, planned int) int {
	fmt.Fprintln(w, "| # | fault | published | expected | delivered | lost | dup | recover | verdict | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	failed := planned - len(results)
	var failures []string
	for _, r := range results {
		t, ph := r.t, r.ph
		verdict := "ok"
		if len(ph.problems) > 0 {
			verdict = "**FAIL**"
			failed++
			failures = append(failures, ph.spec.name+": "+strings.Join(ph.problems, "; "))
		}
		lost := t.lostAPI + t.lostBare + t.lostBareUnsub
		fmt.Fprintf(w, "| %d | %s | %d | %d | %d | %s | %s | %s | %s | %s |\n",
			ph.index, ph.spec.name, t.published, t.expected, t.delivered,
			lostCell(t, lost), dupCell(t), recoverCell(ph, t), verdict, notesCell(ph, t))
	}
	fmt.Fprintln(w)
	reportChat(w, results)
	total := tally{}
	for _, r := range results {
		total.published += r.t.published
		total.expected += r.t.expected
		total.delivered += r.t.delivered
	}
	fmt.Fprintf(w, "notifyd-chaos: %d/%d phases passed; %d published, %d of %d deliveries; clients=%d rate=%d/s phase=%v seed=%d\n",
		planned-failed, planned, total.published, total.delivered, total.expected,
		c.opts.clients, c.opts.rate, c.opts.phaseDuration, c.opts.seed)
	for _, f := range failures {
		fmt.Fprintln(w, "FAIL", f)
	}
	if len(results) < planned {
		fmt.Fprintf(w, "FAIL %d phases did not run (timeout)\n", planned-len(results))
	}
	return failed
}

func lostCell(t tally, lost int) string {
	if lost == 0 {
		return "0"
	}
	var parts []string
	if t.lostAPI > 0 {
		parts = append(parts, fmt.Sprintf("api %d", t.lostAPI))
	}
	if t.lostBare > 0 {
		parts = append(parts, fmt.Sprintf("bare %d", t.lostBare))
	}
	if t.lostBareUnsub > 0 {
		parts = append(parts, fmt.Sprintf("bare, no subscriber %d", t.lostBareUnsub))
	}
	return fmt.Sprintf("%d (%s)", lost, strings.Join(parts, ", "))
}

// dupCell is the duplicates the clients dropped (same id seen again), and
// the duplicates that reached applications (always 0 unless the client's
// dedup window was exceeded).
func dupCell(t tally) string {
	s := fmt.Sprintf("%d", t.wireDup)
	if t.wireDup > 0 && t.wireDupNoGap < t.wireDup {
		s += fmt.Sprintf(" (%d after gaps)", t.wireDup-t.wireDupNoGap)
	}
	if t.appDup > 0 {
		s += fmt.Sprintf(", app %d", t.appDup)
	}
	return s
}

func recoverCell(ph *phase, t tally) string {
	switch {
	case ph.recover > 0:
		return ph.recover.Round(time.Millisecond).String()
	case !t.recoveryValid:
		return "–"
	case !t.recovered:
		return "never"
	}
	return t.recovery.Round(time.Millisecond).String()
}

func notesCell(ph *phase, t tally) string {
	notes := []string{fmt.Sprintf("api %d / bare %d", t.publishedAPI, t.publishedBare)}
	if t.refused+t.skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d publishes refused or failed, %d skipped", t.refused, t.skipped))
	}
	if t.bareNoSubscriber > 0 {
		notes = append(notes, fmt.Sprintf("%d bare PUBLISHes reached no subscriber", t.bareNoSubscriber))
	}
	if t.unconfirmed > 0 {
		notes = append(notes, fmt.Sprintf("%d deliveries of unacknowledged publishes", t.unconfirmed))
	}
	if t.reconnects > 0 {
		notes = append(notes, fmt.Sprintf("%d reconnects", t.reconnects))
	}
	if t.gaps > 0 {
		notes = append(notes, fmt.Sprintf("%d gap frames", t.gaps))
	}
	notes = append(notes, ph.notes...)
	for _, p := range ph.problems {
		notes = append(notes, "**"+p+"**")
	}
	return strings.ReplaceAll(strings.Join(notes, "; "), "|", "/")
}

// reportChat prints the chat's table, one row per phase, when the chat ran.
func reportChat(w io.Writer, results []result) {
	if len(results) == 0 || results[0].chat == nil {
		return
	}
	fmt.Fprintln(w, "| # | fault | chat sent | ok | failed | expected | delivered (live / fill) | lost | dup | leaked | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		t, s := r.chat, r.chatStats
		if t == nil {
			continue
		}
		fmt.Fprintf(w, "| %d | %s | %d | %d | %d | %d | %d (%d / %d) | %d | %d | %d | %s |\n",
			r.ph.index, r.ph.spec.name, t.attempts, t.ok, t.failed, t.expected, t.delivered, t.live, t.filled,
			t.lost, t.dup, t.leaked, chatNotes(*t, s))
	}
	fmt.Fprintln(w)
}

func chatNotes(t chatTally, s chatStats) string {
	var notes []string
	if t.failed > 0 {
		notes = append(notes, "failed sends (not retried): "+failureText(t.failures))
	}
	if s.skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d sends skipped (sender busy or not connected)", s.skipped))
	}
	if t.unconfirmed > 0 {
		notes = append(notes, fmt.Sprintf("%d deliveries of sends without ok (stored although answered: %s)",
			t.unconfirmed, failureText(t.unconfirmedSends)))
	}
	notes = append(notes, fmt.Sprintf("%d connections, %d gap fills brought %d messages", s.sessions, s.fills, s.filled))
	if s.fillErrors > 0 {
		notes = append(notes, fmt.Sprintf("%d history pages failed (retried)", s.fillErrors))
	}
	if s.subscribeRetry > 0 {
		notes = append(notes, fmt.Sprintf("%d member subscribes retried", s.subscribeRetry))
	}
	probe := fmt.Sprintf("non-member probes: %d of %d refused not_found", s.probesRefused, s.probes)
	if len(s.probeOther) > 0 {
		probe += " (other: " + failureText(s.probeOther) + ")"
	}
	notes = append(notes, probe)
	for _, n := range []struct {
		v    int
		what string
	}{
		{t.echo, "echoes to the sending connection"}, {t.storedTwice, "sends stored twice"},
		{t.inversions, "sender-order inversions"}, {s.memberRefused, "member subscribes refused"},
		{s.probesAccepted, "non-member attempts accepted"},
	} {
		if n.v > 0 {
			notes = append(notes, fmt.Sprintf("**%d %s**", n.v, n.what))
		}
	}
	return strings.ReplaceAll(strings.Join(notes, "; "), "|", "/")
}
