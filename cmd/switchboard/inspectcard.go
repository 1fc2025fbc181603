package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/servercard"
)

// inspectCard is "switchboard inspect --card URL": it reads the Server
// Card of URL (a card, an MCP endpoint whose /server-card is read, or a
// host whose AI catalog lists cards), shows it, and fails when a card
// does not validate against the card schema.
func inspectCard(cmd *cobra.Command, args []string, jsonOut bool) error {
	if len(args) != 1 {
		return errors.New("--card takes one URL")
	}
	fs, err := servercard.Fetch(cmd.Context(), nil, args[0])
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		return fmt.Errorf("%s lists no Server Card", args[0])
	}
	out := cmd.OutOrStdout()
	invalid := 0
	for i, f := range fs {
		if f.Invalid != nil {
			invalid++
		}
		if jsonOut {
			fmt.Fprintf(out, "%s\n", f.Raw)
			continue
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "Card:          %s\n", f.URL)
		if f.ContentType != servercard.MediaType {
			fmt.Fprintf(out, "Content-Type:  %s (expected %s)\n", orText(f.ContentType, "none"), servercard.MediaType)
		}
		if c := f.Card; c != nil {
			fmt.Fprintf(out, "Name:          %s\nVersion:       %s\n", c.Name, c.Version)
			if c.Title != "" {
				fmt.Fprintf(out, "Title:         %s\n", c.Title)
			}
			fmt.Fprintf(out, "Description:   %s\n", c.Description)
			for _, r := range c.Remotes {
				fmt.Fprintf(out, "Remote:        %s %s", r.Type, r.URL)
				if len(r.SupportedProtocolVersions) > 0 {
					fmt.Fprintf(out, " (%s)", strings.Join(r.SupportedProtocolVersions, ", "))
				}
				fmt.Fprintln(out)
			}
		}
		if f.Invalid != nil {
			fmt.Fprintf(out, "Valid:         no: %v\n", f.Invalid)
		} else {
			fmt.Fprintf(out, "Valid:         yes (%s)\n", servercard.SchemaURL)
		}
	}
	if invalid > 0 {
		return exitError{1}
	}
	return nil
}
