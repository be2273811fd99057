/**
 * What an event type name looks like: dotted segments of letters, digits, `-` and `_` (`project.created`). The
 * publish API, the declared catalog in the config file and the endpoint patterns (which add `*` and `a.*`) share it.
 */
export const EVENT_TYPE_SEGMENTS = '[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*';
export const EVENT_TYPE_NAME = new RegExp(`^${EVENT_TYPE_SEGMENTS}$`);
export const EVENT_TYPE_NAME_RULE = 'dotted segments of letters, digits, - or _';
