// Pulumi data sources, read-only resources and deployment gates for Alibaba Cloud OpenSearch function instances and their training tasks.
package opensearchfn
