// Package inventory decides which objects belong to which Application.
//
// Every object tether applies carries two marks:
//
//   - the label tether.dev/app, whose value identifies the app (its
//     namespace and name, or a hash of them when too long for a label), so
//     that tether can watch just the objects it manages;
//   - the annotation tether.dev/tracking-id,
//     "<app-namespace>/<app-name>:<group>/<kind>:<namespace>/<name>", which
//     says exactly which app applied exactly this object. An object copied
//     under another name, or into another namespace, keeps the annotation but
//     no longer matches it, and so is never pruned or claimed by mistake.
//
// The package is pure: values in, values out.
package inventory
