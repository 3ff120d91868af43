package main

import (
	"context"
	"flag"

	"github.com/privateledger/licences/client"
	"github.com/privateledger/licences/function/licence"
)

// action does a command with its arguments once its flags are parsed.
type action = func(ctx context.Context, c *client.Client, args []string) (any, error)

// commands lists the command line's commands, in the order help shows them.
func commands() []command {
	return []command{
		{"create", "", "create a licence; with --idempotency-key, sending it again replays the first", 0, createFlags},
		{"get", "ID", "the licence as it is now, with its latest event", 1, func(*flag.FlagSet) action {
			return func(ctx context.Context, c *client.Client, args []string) (any, error) { return c.Get(ctx, args[0]) }
		}},
		{"contact", "ID", "change the licence's telephone, postcode or both", 1, contactFlags},
		{"points", "ID", "add (--points 3) or remove (--points -3) penalty points, with a --reason", 1, pointsFlags},
		{"delete", "ID", "delete the licence; its history stays until it is erased", 1, func(*flag.FlagSet) action {
			return func(ctx context.Context, c *client.Client, args []string) (any, error) {
				return map[string]any{"id": args[0], "deleted": true}, c.Delete(ctx, args[0])
			}
		}},
		{"history", "ID", "the licence's revisions, oldest first: a page, or --all of them", 1, historyFlags},
		{"erase", "ID", "erase a deleted licence's personal data from its history", 1, func(*flag.FlagSet) action {
			return func(ctx context.Context, c *client.Client, args []string) (any, error) { return c.Erase(ctx, args[0]) }
		}},
	}
}

// lookup finds a command by name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func createFlags(fs *flag.FlagSet) action {
	var (
		app licence.Application
		key string
	)
	fs.StringVar(&app.FirstName, "first-name", "", "the holder's first name")
	fs.StringVar(&app.LastName, "last-name", "", "the holder's last name")
	fs.StringVar(&app.Email, "email", "", "the holder's email")
	fs.StringVar(&app.Telephone, "telephone", "", "the holder's telephone")
	fs.StringVar(&app.Postcode, "postcode", "", "the holder's postcode")
	fs.StringVar(&key, "idempotency-key", "", "names this request, so sending it again replays the first (default: a random key, used for the command's own retries)")
	return func(ctx context.Context, c *client.Client, _ []string) (any, error) {
		made, err := c.Create(ctx, app, key)
		if err != nil {
			return nil, err
		}
		return struct {
			licence.Licence
			IdempotencyKey string `json:"idempotencyKey"`
			Replayed       bool   `json:"replayed"`
		}{made.Licence, made.Key, made.Replayed}, nil
	}
}

func contactFlags(fs *flag.FlagSet) action {
	var telephone, postcode optional
	fs.Var(&telephone, "telephone", "the new telephone")
	fs.Var(&postcode, "postcode", "the new postcode")
	return func(ctx context.Context, c *client.Client, args []string) (any, error) {
		if !telephone.set && !postcode.set {
			return nil, &usageError{"give --telephone, --postcode or both"}
		}
		return c.ChangeContact(ctx, args[0], licence.ContactChange{Telephone: telephone.ptr(), Postcode: postcode.ptr()})
	}
}

func pointsFlags(fs *flag.FlagSet) action {
	var change licence.PointsChange
	fs.IntVar(&change.Points, "points", 0, "points to add (positive) or remove (negative)")
	fs.StringVar(&change.Reason, "reason", "", "why")
	return func(ctx context.Context, c *client.Client, args []string) (any, error) {
		return c.ChangePoints(ctx, args[0], change)
	}
}

func historyFlags(fs *flag.FlagSet) action {
	var (
		all   bool
		limit int
		next  string
	)
	fs.BoolVar(&all, "all", false, "follow every page to the end, and print every revision")
	fs.IntVar(&limit, "limit", 0, "revisions a page holds, 1 to 100 (default: the API's, 50)")
	fs.StringVar(&next, "next", "", "the cursor the page before gave")
	return func(ctx context.Context, c *client.Client, args []string) (any, error) {
		if !all {
			return c.HistoryPage(ctx, args[0], limit, next)
		}
		if next != "" {
			return nil, &usageError{"--all starts at the first page: leave out --next"}
		}
		page := client.Page{ID: args[0], Revisions: []licence.Revision{}}
		for r, err := range c.History(ctx, args[0], limit) {
			if err != nil {
				return nil, err
			}
			page.Revisions = append(page.Revisions, r)
		}
		return page, nil
	}
}

// optional is a string flag that knows whether it was given.
type optional struct {
	value string
	set   bool
}

func (o *optional) String() string { return o.value }

func (o *optional) Set(v string) error {
	o.value, o.set = v, true
	return nil
}

func (o *optional) ptr() *string {
	if !o.set {
		return nil
	}
	return &o.value
}
