// Gust's Temporal search attributes. Registered on the server by scripts/stack/temporal.sh (keep in sync).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const NAMESPACE_ATTR = defineSearchAttributeKey('GustNamespace', SearchAttributeType.KEYWORD);
export const ACTION_ATTR = defineSearchAttributeKey('GustAction', SearchAttributeType.KEYWORD);
export const KIND_ATTR = defineSearchAttributeKey('GustKind', SearchAttributeType.KEYWORD);
export const HOST_ATTR = defineSearchAttributeKey('GustHost', SearchAttributeType.KEYWORD);
