// The API's shapes, generated from docs/openapi.json at build time (npm run api-types): a change to the API
// that the console does not follow fails its type check.
import type { components } from './schema.gen';

type S = components['schemas'];
export type Principal = S['Principal'];
export type SignInProviders = S['SignInProviders'];
export type Role = S['Role'];
export type Device = S['Device'];
export type DeviceList = S['DeviceList'];
export type DeviceStatus = S['DeviceStatus'];
export type NewDevice = S['NewDevice'];
export type Alert = S['Alert'];
export type AlertList = S['AlertList'];
export type AlertDetail = S['AlertDetail'];
export type Severity = S['Severity'];
export type Site = S['Site'];
export type SiteList = S['SiteList'];
export type Metric = S['Metric'];
export type MetricList = S['MetricList'];
export type TelemetryPage = S['TelemetryPage'];
export type FleetSummary = S['FleetSummary'];
export type DeliveryList = S['DeliveryList'];
export type BulkAlertResult = S['BulkAlertResult'];

export const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];
export const DEVICE_STATUSES: DeviceStatus[] = ['ONLINE', 'STALE', 'OFFLINE'];
export type StatusChangeList = S['StatusChangeList'];
export type DeviceMetricList = S['DeviceMetricList'];
export type Rule = S['Rule'];
export type RuleList = S['RuleList'];
export type RulePreview = S['RulePreview'];
export type PluginList = S['PluginList'];
export type Channel = S['Channel'];
export type ChannelList = S['ChannelList'];
export type RoutingRule = S['RoutingRule'];
export type RoutingRuleList = S['RoutingRuleList'];
export type NotificationGroup = S['NotificationGroup'];
export type NotificationGroupList = S['NotificationGroupList'];
export type ApiKey = S['ApiKey'];
export type ApiKeyList = S['ApiKeyList'];
export type NewApiKey = S['NewApiKey'];
export type User = S['User'];
export type UserList = S['UserList'];
export type AuditList = S['AuditList'];
