#!/usr/bin/python3

# The Prometheus text exposition on stdin, parsed by the Prometheus
# client library's own parser (Debian: python3-prometheus-client), as
# JSON on stdout: the families in order, each with its name, type, help
# and samples ({name, labels, value}).  Exit status 2 if the library is
# missing, 1 if the text does not parse.  For t/027-prometheus.t.

import json
import math
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print('prometheus_client is missing', file=sys.stderr)
    sys.exit(2)


def number(v):
    if math.isinf(v):
        return '+Inf' if v > 0 else '-Inf'
    if math.isnan(v):
        return 'NaN'
    return v


text = sys.stdin.read()

try:
    families = [{
        'name': f.name,
        'type': f.type,
        'help': f.documentation,
        'samples': [{'name': s.name, 'labels': s.labels,
                     'value': number(s.value)} for s in f.samples],
    } for f in text_string_to_metric_families(text)]
except Exception as e:
    print('parse error: %s' % e, file=sys.stderr)
    sys.exit(1)

json.dump(families, sys.stdout)
