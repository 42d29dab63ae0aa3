// The device name and tag rules of the server (core/services/DeviceSpec.cpp), checked in the browser first
// so that a preview can list every problem by line; the server checks again and has the last word.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TAG_FORBIDDEN = /[",{}\\;\r\n]/;

export function nameProblem(name: string): string | undefined {
  return NAME.test(name)
    ? undefined
    : `device name '${name.slice(0, 140)}' must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or digit (it is part of MQTT topics)`;
}

export function tagProblem(tags: string[]): string | undefined {
  if (tags.length > 64) return 'a device has at most 64 tags';
  for (const t of tags)
    if (!t || t.length > 64 || TAG_FORBIDDEN.test(t) || t.trim() !== t)
      return `tag '${t.slice(0, 80)}' must be 1-64 characters, not starting or ending with a space, without quotes, commas, semicolons, braces or backslashes`;
  return undefined;
}
