{{/*
The labels of every object's metadata: the kustomize base's two, then the
three Helm adds (test/helm/compare.py removes exactly these three before it
compares the chart's objects with the base's).
*/}}
{{- define "profiled.labels" -}}
app.kubernetes.io/name: profiled
app.kubernetes.io/part-of: profiled
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The agent's service account as the API server names its user. */}}
{{- define "profiled.username" -}}
system:serviceaccount:{{ .Values.namespace.name }}:profiled
{{- end }}

{{/* The image reference: repository:tag, or repository@digest. */}}
{{- define "profiled.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end }}

{{/* The key of the start-up taint (KEY[:EFFECT]); "" when there is none. */}}
{{- define "profiled.taintKey" -}}
{{- if .Values.startupTaint -}}
{{ splitList ":" .Values.startupTaint | first }}
{{- end -}}
{{- end }}

{{/* labelDomain as an RE2 pattern inside a CEL single-quoted string. */}}
{{- define "profiled.domainPattern" -}}
{{ .Values.labelDomain | replace "." "\\\\." }}
{{- end }}
