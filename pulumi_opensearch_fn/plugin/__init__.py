"""The provider package door: the `opensearch-fn` schema and the plugin that serves it.

Other Pulumi languages (YAML, TypeScript, Go, ...) use the package through this
plugin (`pulumi-resource-opensearch-fn`); Python programs keep the dynamic door.
Importing this package loads nothing: `schema` and `provider` load on their own.
"""
