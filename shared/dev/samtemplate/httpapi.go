package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pufinid/pufinid-api/shared/dev/gateway"
)

// Parameter is one of the template's Parameters.
type Parameter struct {
	Type          string // String, Number, CommaDelimitedList...
	Default       *string
	Description   string
	AllowedValues []string
	// MinValue and MaxValue bound a Number parameter; nil when unset.
	MinValue, MaxValue *float64
}

// HTTPAPI is one AWS::Serverless::HttpApi: what the local server does as
// API Gateway does, and what the tests check.
type HTTPAPI struct {
	LogicalID string
	// CORS is the CorsConfiguration, nil without one. An AllowOrigins that
	// refers to a parameter holds the parameter's default (none without
	// one), and CORSOriginsParameter names it.
	CORS                 *gateway.CORS
	CORSOriginsParameter string
}

// HTTPAPI returns the API with logical id id.
func (t *Template) HTTPAPI(id string) (HTTPAPI, bool) {
	for _, a := range t.APIs {
		if a.LogicalID == id {
			return a, true
		}
	}
	return HTTPAPI{}, false
}

// goformation cannot read an HttpApi whose properties refer to parameters
// of a list or number type (it drops the whole CorsConfiguration when
// AllowOrigins is a !Ref), so these parts are read from the YAML itself.
type rawTemplate struct {
	Parameters map[string]struct {
		Type          string   `yaml:"Type"`
		Default       *string  `yaml:"Default"`
		Description   string   `yaml:"Description"`
		AllowedValues []string `yaml:"AllowedValues"`
		MinValue      *float64 `yaml:"MinValue"`
		MaxValue      *float64 `yaml:"MaxValue"`
	} `yaml:"Parameters"`
	Globals    yaml.Node              `yaml:"Globals"`
	Conditions map[string]yaml.Node   `yaml:"Conditions"`
	Resources  map[string]rawResource `yaml:"Resources"`
}

type rawHTTPAPI struct {
	CorsConfiguration *struct {
		AllowOrigins     yaml.Node `yaml:"AllowOrigins"`
		AllowMethods     []string  `yaml:"AllowMethods"`
		AllowHeaders     []string  `yaml:"AllowHeaders"`
		ExposeHeaders    []string  `yaml:"ExposeHeaders"`
		MaxAge           yaml.Node `yaml:"MaxAge"`
		AllowCredentials bool      `yaml:"AllowCredentials"`
	} `yaml:"CorsConfiguration"`
}

// parseRaw fills t's Parameters and APIs from the template's YAML.
func (t *Template) parseRaw(data []byte) error {
	var raw rawTemplate
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("samtemplate: %w", err)
	}
	t.Parameters = map[string]Parameter{}
	for name, p := range raw.Parameters {
		t.Parameters[name] = Parameter{Type: p.Type, Default: p.Default, Description: strings.TrimSpace(p.Description), AllowedValues: p.AllowedValues,
			MinValue: p.MinValue, MaxValue: p.MaxValue}
	}
	var err error
	if t.Resources, err = rawResources(raw.Resources); err != nil {
		return err
	}
	t.Conditions = slices.Sorted(maps.Keys(raw.Conditions))
	if raw.Globals.Kind != 0 {
		g, err := plain(&raw.Globals)
		if err != nil {
			return fmt.Errorf("samtemplate: Globals: %w", err)
		}
		t.Globals, _ = g.(map[string]any)
	}
	for _, id := range slices.Sorted(maps.Keys(raw.Resources)) {
		res := raw.Resources[id]
		if res.Type != "AWS::Serverless::HttpApi" {
			continue
		}
		api := HTTPAPI{LogicalID: id}
		var props rawHTTPAPI
		if err := res.Properties.Decode(&props); err != nil {
			return fmt.Errorf("samtemplate: %s: %w", id, err)
		}
		if c := props.CorsConfiguration; c != nil {
			cors := &gateway.CORS{AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders, ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials}
			origins, param, err := t.list(c.AllowOrigins)
			if err != nil {
				return fmt.Errorf("samtemplate: %s CorsConfiguration.AllowOrigins: %w", id, err)
			}
			cors.AllowOrigins, api.CORSOriginsParameter = origins, param
			if c.MaxAge.Kind != 0 {
				if cors.MaxAge, err = t.number(c.MaxAge); err != nil {
					return fmt.Errorf("samtemplate: %s CorsConfiguration.MaxAge: %w", id, err)
				}
			}
			api.CORS = cors
		}
		t.APIs = append(t.APIs, api)
	}
	return nil
}

// list reads a list of strings, or a !Ref to a CommaDelimitedList
// parameter (its default, and its name).
func (t *Template) list(n yaml.Node) ([]string, string, error) {
	if n.Tag == "!Ref" {
		p, ok := t.Parameters[n.Value]
		if !ok || p.Type != "CommaDelimitedList" {
			return nil, "", fmt.Errorf("!Ref %s is not a CommaDelimitedList parameter", n.Value)
		}
		if p.Default == nil {
			return nil, n.Value, nil
		}
		return SplitList(*p.Default), n.Value, nil
	}
	var vs []string
	err := n.Decode(&vs)
	return vs, "", err
}

// number reads a number, or a !Ref to a Number parameter's default.
func (t *Template) number(n yaml.Node) (int, error) {
	v := n.Value
	if n.Tag == "!Ref" {
		p, ok := t.Parameters[n.Value]
		if !ok || p.Type != "Number" || p.Default == nil {
			return 0, fmt.Errorf("!Ref %s is not a Number parameter with a default", n.Value)
		}
		v = *p.Default
	}
	return strconv.Atoi(v)
}

// SplitList splits a CommaDelimitedList value as CloudFormation does,
// trimming the spaces around each item.
func SplitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
