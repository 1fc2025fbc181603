package portability

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// format returns the format of the client's file under opts.
func (c *Client) format(o *Options) Format {
	if o.Format != 0 {
		return o.Format
	}
	return c.Format
}

// Read returns the MCP servers of a client's file content (nil or empty
// content is a file without servers), sorted by name, with notes on
// entries it could not read.
func (c *Client) Read(data []byte, opts *Options) (*Set, []Note, error) {
	o := opts.orZero()
	if c.d.read != nil {
		return c.d.read(c, data, o)
	}
	doc, err := parseDocument(data, c.format(o))
	if err != nil {
		return nil, nil, err
	}
	var ns notes
	set, err := c.readDoc(doc, o, &ns)
	return set, ns, err
}

// readDoc reads the servers of a parsed file.
func (c *Client) readDoc(doc document, o *Options, ns *notes) (*Set, error) {
	if c.d.read != nil { // the gateway: read what its own loader reads
		set, n, err := c.d.read(c, doc.bytes(), o)
		*ns = append(*ns, n...)
		return set, err
	}
	set := &Set{}
	path := c.d.container(doc.tree(), o)
	v, err := lookup(doc.tree(), path)
	if err != nil {
		return nil, err
	}
	r := &reader{c: c, opts: o, notes: ns}
	where := strings.Join(path, ".")
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for _, name := range sortedKeys(x) {
			if name == "" {
				// No client names a server "", and lists cannot hold one.
				ns.warn("", where+`[""]`, "no name: not read")
				continue
			}
			e, ok := x[name].(map[string]any)
			if !ok {
				ns.warn(name, "", "not an object: not read")
				continue
			}
			if s := c.d.decode(r, name, e); s != nil {
				set.Servers = append(set.Servers, s)
			}
		}
	case []any:
		if !c.d.list {
			return nil, fmt.Errorf("%s is a list, not a map of servers", where)
		}
		for i, el := range x {
			e, ok := el.(map[string]any)
			if !ok {
				ns.warn("", fmt.Sprintf("%s[%d]", where, i), "not an object: not read")
				continue
			}
			name, _ := text(e, "name")
			if name == "" {
				ns.warn("", fmt.Sprintf("%s[%d]", where, i), "no name: not read")
				continue
			}
			if set.Lookup(name) != nil {
				ns.warn(name, "", "a second entry of the same name: not read")
				continue
			}
			if s := c.d.decode(r, name, e); s != nil {
				set.Servers = append(set.Servers, s)
			}
		}
		slices.SortFunc(set.Servers, func(a, b *Server) int { return strings.Compare(a.Name, b.Name) })
	default:
		return nil, fmt.Errorf("%s is not a map of servers", where)
	}
	if c.d.inputs {
		set.Inputs = readInputs(doc.tree())
	}
	return set, nil
}

// readInputs reads VS Code's "inputs".
func readInputs(tree map[string]any) []Input {
	list, _ := tree["inputs"].([]any)
	var out []Input
	for _, el := range list {
		e, ok := el.(map[string]any)
		if !ok {
			continue
		}
		id, _ := text(e, "id")
		if id == "" {
			continue
		}
		in := Input{ID: id}
		in.Type, _ = text(e, "type")
		in.Description, _ = text(e, "description")
		in.Password, _ = flag(e, "password")
		out = append(out, in)
	}
	return out
}

// Result is what Edit did.
type Result struct {
	// Content is the file's new content.
	Content []byte `json:"-"`
	// Added, Replaced, Unchanged, Conflicts and Skipped are server names:
	// new entries; entries overwritten (with Options.Replace); entries
	// already the same; entries of the same name that differ and were
	// kept; servers the target cannot hold.
	Added     []string `json:"added,omitempty"`
	Replaced  []string `json:"replaced,omitempty"`
	Unchanged []string `json:"unchanged,omitempty"`
	Conflicts []string `json:"conflicts,omitempty"`
	Skipped   []string `json:"skipped,omitempty"`
	// Inputs are the ids of the input declarations added.
	Inputs []string `json:"inputs,omitempty"`
	// Notes say, per server and key, what could not be carried as it
	// was.
	Notes []Note `json:"notes,omitempty"`
}

// Changed reports whether the content changed.
func (r *Result) Changed() bool { return len(r.Added)+len(r.Replaced)+len(r.Inputs) > 0 }

// Edit returns the content of a client's file with the servers of set
// written into it; data is the current content (nil or empty for a new
// file). Every other key of the file is kept. A server of the same name
// that differs is a conflict, kept as it is unless opts.Replace is set.
func (c *Client) Edit(data []byte, set *Set, opts *Options) (*Result, error) {
	if c.ImportOnly {
		return nil, fmt.Errorf("%s can only be imported from", c.Name)
	}
	o := opts.orZero()
	doc, err := parseDocument(data, c.format(o))
	if err != nil {
		return nil, err
	}
	var ns notes
	var discard notes
	existing, err := c.readDoc(doc, o, &discard)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	w := &writer{c: c, opts: o, notes: &ns, syn: c.d.syn, container: c.d.container(doc.tree(), o)}
	back := map[string]*Server{}
	for _, s := range set.Servers {
		if !validUTF8(s) {
			ns.warn(s.Name, "", "not valid UTF-8: not written")
			res.Skipped = append(res.Skipped, s.Name)
			continue
		}
		entry := c.d.encode(w, s)
		if entry == nil {
			res.Skipped = append(res.Skipped, s.Name)
			continue
		}
		want := c.d.decode(&reader{c: c, opts: o, notes: &discard}, s.Name, plain(entry).(map[string]any))
		if want == nil {
			return nil, fmt.Errorf("%s: the entry written for %s does not read back", c.Name, s.Name)
		}
		if old := existing.Lookup(s.Name); old != nil {
			if old.Equal(want) {
				res.Unchanged = append(res.Unchanged, s.Name)
				continue
			}
			if !o.Replace {
				res.Conflicts = append(res.Conflicts, s.Name)
				ns.warn(s.Name, "", "the file already has a different entry of this name: kept as it is (--replace overwrites it)")
				continue
			}
			res.Replaced = append(res.Replaced, s.Name)
		} else {
			res.Added = append(res.Added, s.Name)
		}
		if c.d.list {
			err = doc.setListEntry(w.container, "name", s.Name, entry)
		} else {
			err = doc.setMapEntry(w.container, s.Name, entry)
		}
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", s.Name, err)
		}
		back[s.Name] = want
	}
	if c.d.inputs {
		if err := c.addInputs(doc, set, existing, back, res, &ns); err != nil {
			return nil, err
		}
	}
	// What was written must read back as intended.
	after, err := c.readDoc(doc, o, &discard)
	if err != nil {
		return nil, fmt.Errorf("the edited file does not read back: %w", err)
	}
	for name, want := range back {
		got := after.Lookup(name)
		if got == nil || !got.Equal(want) {
			return nil, fmt.Errorf("%s: the entry written for %s reads back differently", c.Name, name)
		}
	}
	if c.d.check != nil {
		if err := c.d.check(doc.bytes(), o); err != nil {
			return nil, err
		}
	}
	res.Content = doc.bytes()
	res.Notes = ns
	return res, nil
}

// addInputs declares the inputs the written servers refer to.
func (c *Client) addInputs(doc document, set, existing *Set, written map[string]*Server, res *Result, ns *notes) error {
	var servers []*Server
	for _, s := range written {
		servers = append(servers, s)
	}
	have := map[string]bool{}
	for _, in := range existing.Inputs {
		have[in.ID] = true
	}
	for _, id := range inputRefs(servers) {
		if have[id] {
			continue
		}
		i := slices.IndexFunc(set.Inputs, func(in Input) bool { return in.ID == id })
		if i < 0 {
			ns.warn("", "inputs", "${input:%s} is not declared in the source: declare it in %s's inputs", id, c.Name)
			continue
		}
		in := set.Inputs[i]
		typ := in.Type
		if typ == "" {
			typ = "promptString"
		}
		e := obj{{"type", typ}, {"id", in.ID}}
		if in.Description != "" {
			e.set("description", in.Description)
		}
		if in.Password {
			e.set("password", true)
		}
		if err := doc.setListEntry([]string{"inputs"}, "id", in.ID, e); err != nil {
			return fmt.Errorf("writing input %s: %w", id, err)
		}
		res.Inputs = append(res.Inputs, id)
	}
	return nil
}

// Select returns the servers of set named in names (all when names is
// empty), or an error naming those it does not have.
func (s *Set) Select(names []string) (*Set, error) {
	if len(names) == 0 {
		return s, nil
	}
	out := &Set{Inputs: s.Inputs}
	var missing []string
	for _, n := range names {
		if sv := s.Lookup(n); sv != nil {
			out.Servers = append(out.Servers, sv)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, errors.New("no server named " + strings.Join(missing, ", "))
	}
	return out, nil
}

// validUTF8 reports whether every string of s is valid UTF-8, as every
// format written requires.
func validUTF8(s *Server) bool {
	vals := append([]string{s.Name, s.Transport, s.Command, s.Cwd, s.EnvFile, s.URL}, s.Args...)
	for _, m := range []map[string]string{s.Env, s.Headers} {
		for k, v := range m {
			vals = append(vals, k, v)
		}
	}
	for _, v := range vals {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
