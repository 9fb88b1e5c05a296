{{/* Names and labels. */}}
{{- define "notifyd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "notifyd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "notifyd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "notifyd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "notifyd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{ include "notifyd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The Secret holding credentials: the chart's own or the operator's. */}}
{{- define "notifyd.secretName" -}}
{{- default (include "notifyd.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Refuse values that would start gateways that cannot work. */}}
{{- define "notifyd.validate" -}}
{{- if not .Values.auth.existingSecret -}}
{{- if and (not .Values.auth.jwtSecret) (not .Values.auth.jwtPublicKey) -}}
{{- fail "set auth.jwtSecret or auth.jwtPublicKey (or auth.existingSecret): notifyd refuses to start without a way to check tokens" -}}
{{- end -}}
{{- if and .Values.auth.jwtSecret .Values.auth.jwtPublicKey -}}
{{- fail "set only one of auth.jwtSecret and auth.jwtPublicKey" -}}
{{- end -}}
{{- if and (not .Values.redis.url) (not .Values.redis.addrs) -}}
{{- fail "set redis.url or redis.addrs (or auth.existingSecret with NOTIFYD_REDIS_URL): replicas must share one Redis; the embedded one keeps nothing" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.redis.url .Values.redis.addrs -}}
{{- fail "set only one of redis.url and redis.addrs" -}}
{{- end -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.ports.admin) -}}
{{- fail "serviceMonitor.enabled needs ports.admin (the admin listener serves /metrics)" -}}
{{- end -}}
{{- end -}}
