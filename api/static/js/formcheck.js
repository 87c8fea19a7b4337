/* The page's own checks of a form against its JSON Schema, in the page's language.

   The server validates every submission (jsonschema, x-rules, identity check characters); these checks only
   spare a round trip for what the schema says plainly. They are written here rather than taken from a
   validator library because the strict CSP (no 'unsafe-eval') rules out the compiling ones (Ajv). */
"use strict";

const formcheck = {
  english: document.documentElement.lang === "en",

  /** One message in the page's language: [zh, en] pairs, "{0}" filled in. */
  say(pair, ...args) {
    const text = pair[this.english ? 1 : 0];
    return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
  },

  /** A server message "中文 (English)": the English part on English pages, else as sent. */
  serverText(message) {
    const text = String(message);
    if (!this.english) return text;
    const open = text.lastIndexOf(" (");
    return open > 0 && text.endsWith(")") ? text.slice(open + 2, -1) : text;
  },

  /** A schema's own text in the page's language: `title` / `x-title-en`, `x-pattern-message` /
      `x-pattern-message-en`, and in a UI schema `ui:help` / `ui:help-en`. */
  text(node, key) {
    if (!node) return "";
    const english = key.startsWith("x-") || key.startsWith("ui:") ? `${key}-en` : `x-${key}-en`;
    return (this.english && node[english]) || node[key] || "";
  },

  messages: {
    required: ["必须填写", "required"],
    confirm: ["请勾选确认", "please tick to confirm"],
    choose: ["请从列表中选择", "choose one of the options"],
    number: ["请填写数字", "enter a number"],
    integer: ["请填写整数", "enter a whole number"],
    minLength: ["至少 {0} 个字（不计空白）", "at least {0} characters, not counting blanks"],
    maxLength: ["最多 {0} 个字", "at most {0} characters"],
    pattern: ["格式不正确", "not in the expected format"],
    minimum: ["不能小于 {0}", "must be at least {0}"],
    maximum: ["不能大于 {0}", "must be at most {0}"],
    exclusiveMinimum: ["必须大于 {0}", "must be more than {0}"],
    exclusiveMaximum: ["必须小于 {0}", "must be less than {0}"],
    multipleOf: ["须为 {0} 的整数倍", "must be a multiple of {0}"],
    minItems: ["至少 {0} 项", "at least {0} items"],
    maxItems: ["最多 {0} 项", "at most {0} items"],
    uniqueItems: ["不能重复", "no duplicates"],
    date: ["请填写日期，如 2026-03-01", "enter a date such as 2026-03-01"],
    email: ["请填写有效的电子邮箱", "enter a valid e-mail address"],
    minFiles: ["请至少上传 {0} 个文件", "upload at least {0} files"],
    upload: ["请上传文件", "upload the file"],
  },

  blank(value) {
    return value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length);
  },

  /** Characters a reader sees, as the server counts them (blanks and invisible format characters do not). */
  visibleLength(text) {
    return [...text].filter((c) => !/[\s\p{Cf}]/u.test(c)).length;
  },

  /** The decimal value is a multiple of the step, compared exactly (0.07 is a multiple of 0.01). */
  isMultiple(value, step) {
    const texts = [value, step].map(String);
    if (texts.some((t) => /e/i.test(t))) return Math.abs(value / step - Math.round(value / step)) < 1e-9;
    const places = Math.max(...texts.map((t) => (t.split(".")[1] || "").length));
    const [v, s] = texts.map((t) => {
      const negative = t.startsWith("-");
      const [whole, part = ""] = t.replace("-", "").split(".");
      const digits = BigInt(whole + part.padEnd(places, "0"));
      return negative ? -digits : digits;
    });
    return s !== 0n && v % s === 0n;
  },

  typeOf(value) {
    if (Array.isArray(value)) return "array";
    if (value === null) return "null";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
  },

  typeMatches(type, value) {
    const actual = this.typeOf(value);
    return [].concat(type).some((t) => t === actual || (t === "number" && actual === "integer"));
  },

  /** Does `value` satisfy `schema`? (for if/then/else: the same checks, without messages) */
  holds(schema, value) {
    const errors = [];
    this.check(schema, value, "", errors, () => true);
    return !errors.length;
  },

  /** Push {pointer, message} for every problem of `value` under `schema`; `shown(pointer)` says whether a
      field is on the page (a hidden conditional field is neither required nor checked). */
  check(schema, value, pointer, errors, shown) {
    if (!schema || typeof schema !== "object") return;
    /* a key of `messages`, or a form's own text (a pattern's readable message) */
    const add = (key, ...args) => errors.push({pointer: pointer || "/",
                                               message: key in this.messages ? this.say(this.messages[key], ...args) : key});
    if (value === undefined) return;
    if ("const" in schema && value !== schema.const) {
      return add(schema.const === true ? "confirm" : "choose");
    }
    const choices = Array.isArray(schema.oneOf) && schema.oneOf.every((o) => o && "const" in o)
      ? schema.oneOf.map((o) => o.const) : schema.enum;
    if (choices && !choices.some((c) => c === value)) return add("choose");
    if (schema.type && !this.typeMatches(schema.type, value)) {
      if ([].concat(schema.type).includes("integer")) return add("integer");
      if ([].concat(schema.type).includes("number")) return add("number");
      return add("required");
    }
    if (typeof value === "string") this.checkString(schema, value, add);
    if (typeof value === "number") this.checkNumber(schema, value, add);
    if (Array.isArray(value)) {
      if (schema.minItems !== undefined && value.length < schema.minItems) add("minItems", schema.minItems);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) add("maxItems", schema.maxItems);
      if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) add("uniqueItems");
      if (schema.items) value.forEach((item, i) => this.check(schema.items, item, `${pointer}/${i}`, errors, shown));
    }
    if (value && typeof value === "object" && !Array.isArray(value)) this.checkObject(schema, value, pointer, errors, shown);
    [schema, ...(schema.allOf || [])].forEach((part) => {
      if (part !== schema) this.check({...part, allOf: undefined}, value, pointer, errors, shown);
      if (part.if) {
        const branch = this.holds(part.if, value) ? part.then : part.else;
        if (branch) this.check(branch, value, pointer, errors, shown);
      }
    });
  },

  checkString(schema, value, add) {
    if (schema.minLength !== undefined && this.visibleLength(value) < schema.minLength) return add("minLength", schema.minLength);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return add("maxLength", schema.maxLength);
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) {
      return add(this.text(schema, "x-pattern-message") || "pattern");
    }
    if (schema.format === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return add("date");
    if (schema.format === "email" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return add("email");
    return undefined;
  },

  checkNumber(schema, value, add) {
    if (!Number.isFinite(value)) return add("number");
    if (schema.minimum !== undefined && value < schema.minimum) return add("minimum", schema.minimum);
    if (schema.maximum !== undefined && value > schema.maximum) return add("maximum", schema.maximum);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return add("exclusiveMinimum", schema.exclusiveMinimum);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return add("exclusiveMaximum", schema.exclusiveMaximum);
    if (schema.multipleOf !== undefined && !this.isMultiple(value, schema.multipleOf)) return add("multipleOf", schema.multipleOf);
    return undefined;
  },

  checkObject(schema, value, pointer, errors, shown) {
    (schema.required || []).forEach((name) => {
      const at = `${pointer}/${name}`;
      if (this.blank(value[name]) && shown(at)) errors.push({pointer: at, message: this.say(this.messages.required)});
    });
    Object.entries(schema.properties || {}).forEach(([name, child]) => {
      if (name in value) this.check(child, value[name], `${pointer}/${name}`, errors, shown);
    });
  },
};
