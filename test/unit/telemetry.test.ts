import { describe, expect, it } from 'vitest';
import { activeTraceId, bullmqTelemetry, tracing } from '../../src/shared/telemetry.ts';
import { tracingWanted } from '../../src/telemetry/register.ts';

describe('tracing switch', () => {
  it('is on only with an OTLP endpoint, and off with OTEL_SDK_DISABLED=true', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(
      false,
    );
  });

  it('when off, BullMQ gets no telemetry option and there is no trace id', () => {
    expect(tracing()).toBeUndefined();
    expect(bullmqTelemetry()).toEqual({});
    expect(activeTraceId()).toBeUndefined();
  });
});
