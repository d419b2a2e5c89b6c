{{/* The operators keep their own objects (password hashes, token keys, leases) in stratus-system. */}}
{{- define "stratus.checkNamespace" -}}
{{- if ne .Release.Namespace "stratus-system" -}}
{{- fail "install Stratus into the stratus-system namespace (helm install -n stratus-system --create-namespace): the operators keep their own objects there" -}}
{{- end -}}
{{- end -}}

{{- define "stratus.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "stratus.labels" -}}
app.kubernetes.io/name: stratus
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* Labels that select one component's pods; call with (dict "root" $ "component" "glance"). */}}
{{- define "stratus.selector" -}}
app.kubernetes.io/name: stratus
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "stratus.s3Secret" -}}
{{ .Values.s3.existingSecret | default (printf "%s-s3" .Release.Name) }}
{{- end -}}

{{/* The image store's settings, as every process that touches image data reads them (S3_*). */}}
{{- define "stratus.s3Env" -}}
- name: S3_ENDPOINT
  value: {{ required "s3.endpoint is required: the S3-compatible store that holds image data" .Values.s3.endpoint | quote }}
- name: S3_BUCKET
  value: {{ .Values.s3.bucket | quote }}
- name: S3_REGION
  value: {{ .Values.s3.region | quote }}
- name: S3_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ include "stratus.s3Secret" . }}, key: accessKeyId } }
- name: S3_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ include "stratus.s3Secret" . }}, key: secretAccessKey } }
{{- end -}}

{{/* Keystone inside the cluster: where the other APIs validate tokens. */}}
{{- define "stratus.keystoneUrl" -}}
http://{{ .Release.Name }}-keystone.{{ .Release.Namespace }}.svc:5000/v3
{{- end -}}

{{/* Where clients reach an API, for the catalog: (dict "root" $ "service" "glance" "port" 9292 "path" "/image" "version" ""). */}}
{{- define "stratus.publicUrl" -}}
{{- if .root.Values.publicUrl -}}
{{ .root.Values.publicUrl }}{{ .path }}{{ .version }}
{{- else -}}
http://{{ .root.Release.Name }}-{{ .service }}.{{ .root.Release.Namespace }}.svc:{{ .port }}{{ .version }}
{{- end -}}
{{- end -}}

{{/*
One operator (Keystone, Glance, Nova): a Deployment running its process, whose OpenStack API every replica
serves (its reconcilers run on the elected leader), and a Service in front of the API.
Call with (dict "root" $ "component" "glance" "main" "operators/glance/dist/src/main.js" "port" 9292
"portEnv" "GLANCE_API_PORT" "hostEnv" "GLANCE_API_HOST" "probe" "/v2" "values" .Values.glance "env" list).
*/}}
{{- define "stratus.operator" -}}
{{- $root := .root -}}
{{- /* webhook: this API also serves its admission webhook over https (admission-webhook.yaml's certificate). */ -}}
{{- $webhook := and .webhook $root.Values.admissionWebhooks.enabled -}}
{{- $env := .env | default list -}}
{{- $mounts := .volumeMounts | default list -}}
{{- $volumes := .volumes | default list -}}
{{- if $webhook -}}
{{- $env = concat $env (list (dict "name" "ADMISSION_TLS_DIR" "value" "/etc/stratus/admission-tls") (dict "name" "ADMISSION_PORT" "value" (toString $root.Values.admissionWebhooks.port))) -}}
{{- $mounts = append $mounts (dict "name" "admission-tls" "mountPath" "/etc/stratus/admission-tls" "readOnly" true) -}}
{{- $volumes = append $volumes (dict "name" "admission-tls" "secret" (dict "secretName" (printf "%s-admission-tls" $root.Release.Name))) -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $root.Release.Name }}-{{ .component }}
  labels:
    {{- include "stratus.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .values.replicas }}
  selector:
    matchLabels:
      {{- include "stratus.selector" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "stratus.selector" (dict "root" $root "component" .component) | nindent 8 }}
    spec:
      serviceAccountName: {{ $root.Release.Name }}-{{ .component }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "stratus.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["node", {{ .main | quote }}]
          ports:
            - { name: api, containerPort: {{ .port }} }
            {{- if $webhook }}
            - { name: webhook, containerPort: {{ $root.Values.admissionWebhooks.port }} }
            {{- end }}
          env:
            - { name: {{ .hostEnv }}, value: "0.0.0.0" }
            - { name: {{ .portEnv }}, value: {{ .port | quote }} }
            - { name: STRATUS_NAMESPACE, value: {{ $root.Release.Namespace | quote }} }
            {{- with $env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          readinessProbe:
            httpGet: { path: {{ .probe }}, port: api }
          livenessProbe:
            httpGet: { path: {{ .probe }}, port: api }
            initialDelaySeconds: 20
          {{- with .values.resources }}
          resources: {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $mounts }}
          volumeMounts: {{- toYaml . | nindent 12 }}
          {{- end }}
      {{- with $volumes }}
      volumes: {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $root.Release.Name }}-{{ .component }}
  labels:
    {{- include "stratus.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  selector:
    {{- include "stratus.selector" (dict "root" $root "component" .component) | nindent 4 }}
  ports:
    - { name: api, port: {{ .port }}, targetPort: api }
    {{- if $webhook }}
    - { name: webhook, port: {{ $root.Values.admissionWebhooks.port }}, targetPort: webhook }
    {{- end }}
{{- end -}}

{{/* The volume pool: one folder every node sees at the same path (a ReadWriteMany claim, or the host's folder on a one-node cluster). */}}
{{- define "stratus.cinderPoolVolume" -}}
{{- if .Values.cinder.pool.existingClaim -}}
{ name: cinder-pool, persistentVolumeClaim: { claimName: {{ .Values.cinder.pool.existingClaim | quote }} } }
{{- else -}}
{ name: cinder-pool, hostPath: { path: {{ .Values.cinder.pool.path | quote }}, type: DirectoryOrCreate } }
{{- end -}}
{{- end -}}
