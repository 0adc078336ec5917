// Package plan compares desired objects with live ones and decides what a
// sync must do. It is pure: values in, values out, no client and no context.
//
// The helpers here prepare that comparison and show its result:
//
//   - CompileIgnoreRules, IgnoreRule.Matches and Normalize apply an
//     Application's ignoreDifferences (JSON pointers, jq path expressions,
//     managed-fields managers) to both sides before they are compared;
//   - MaskSecrets replaces every Secret value by a mask that still tells
//     equal values from different ones;
//   - Diff renders a unified YAML diff without server-owned noise, Secrets
//     always masked.
package plan
