/* tongban's groups in the bpmn-js properties panel: the element properties the compiler and validation read
   (form, due date and warning, candidate organisation, documents, outcome, fund ledger), conditions, timers,
   decision tables and service operators. Choices come from the page (engine/design/palette.py); labels too, in
   the page's language. Each change is one modeling command, so undo/redo and the saved XML see it. */
"use strict";

const tongbanPanel = (function () {
  const {h, TextFieldEntry, TextAreaEntry, SelectEntry, isTextFieldEntryEdited, isTextAreaEntryEdited,
         isSelectEntryEdited, useService} = TongbanPanel;

  /** The spiffworkflow moddle descriptor: tongban's extension elements round-trip typed, not as generic XML. */
  const moddle = {
    name: "SpiffWorkflow", prefix: "spiffworkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    xml: {tagAlias: "lowerCase"}, associations: [],
    types: [
      {name: "Properties", superClass: ["Element"], meta: {allowedIn: ["*"]},
       properties: [{name: "properties", type: "Property", isMany: true}]},
      {name: "Property", superClass: ["Element"],
       properties: [{name: "name", type: "String", isAttr: true}, {name: "value", type: "String", isAttr: true}]},
      {name: "CalledDecisionId", superClass: ["Element"], meta: {allowedIn: ["bpmn:BusinessRuleTask"]},
       properties: [{name: "value", type: "String", isBody: true}]},
      {name: "ServiceTaskOperator", superClass: ["Element"], meta: {allowedIn: ["bpmn:ServiceTask"]},
       properties: [{name: "id", type: "String", isAttr: true}, {name: "resultVariable", type: "String", isAttr: true},
                    {name: "parameterList", type: "Parameters"}]},
      {name: "Parameters", superClass: ["Element"],
       properties: [{name: "parameters", type: "Parameter", isMany: true}]},
      {name: "Parameter", superClass: ["Element"],
       properties: [{name: "id", type: "String", isAttr: true}, {name: "type", type: "String", isAttr: true},
                    {name: "value", type: "String", isAttr: true}]},
      {name: "PreScript", superClass: ["Element"], properties: [{name: "value", type: "String", isBody: true}]},
      {name: "PostScript", superClass: ["Element"], properties: [{name: "value", type: "String", isBody: true}]},
    ],
  };

  const bo = (element) => element.businessObject;
  const isA = (element, type) => bo(element).$instanceOf(type);
  const extensions = (element) => (bo(element).extensionElements?.values || []);
  const extension = (element, type) => extensions(element).find((v) => v.$instanceOf(type));

  /** The extensionElements child of `type`, created (with extensionElements) when missing. */
  function ensureExtension(element, type, attrs, services) {
    const {bpmnFactory, modeling} = services;
    let container = bo(element).extensionElements;
    if (!container) {
      container = bpmnFactory.create("bpmn:ExtensionElements", {values: []});
      modeling.updateModdleProperties(element, bo(element), {extensionElements: container});
    }
    let found = container.values.find((v) => v.$instanceOf(type));
    if (!found) {
      found = bpmnFactory.create(type, attrs);
      found.$parent = container;
      modeling.updateModdleProperties(element, container, {values: [...container.values, found]});
    }
    return found;
  }

  function propertyValue(element, name) {
    const props = extension(element, "spiffworkflow:Properties");
    return props?.properties.find((p) => p.name === name)?.value || "";
  }

  function setProperty(element, name, value, services) {
    const {bpmnFactory, modeling} = services;
    const props = ensureExtension(element, "spiffworkflow:Properties", {properties: []}, services);
    const existing = props.properties.find((p) => p.name === name);
    if (!value) {
      if (existing) modeling.updateModdleProperties(element, props, {properties: props.properties.filter((p) => p !== existing)});
    } else if (existing) {
      modeling.updateModdleProperties(element, existing, {value});
    } else {
      const property = bpmnFactory.create("spiffworkflow:Property", {name, value});
      property.$parent = props;
      modeling.updateModdleProperties(element, props, {properties: [...props.properties, property]});
    }
  }

  function useServices() {
    return {bpmnFactory: useService("bpmnFactory"), modeling: useService("modeling"),
            debounce: useService("debounceInput")};
  }

  /* --- entry components --------------------------------------------------------------------------------- */

  function PropertyEntry(props) {
    const {element, id, name, label, description, options, area} = props;
    const services = useServices();
    const common = {element, id, label, description, getValue: () => propertyValue(element, name),
                    setValue: (value) => setProperty(element, name, value, services)};
    if (options) return h(SelectEntry, {...common, getOptions: () => options});
    return h(area ? TextAreaEntry : TextFieldEntry, {...common, debounce: services.debounce, rows: 2});
  }

  function ConditionEntry(props) {
    const {element, id, label, description} = props;
    const services = useServices();
    return h(TextAreaEntry, {
      element, id, label, description, debounce: services.debounce, rows: 2,
      getValue: () => bo(element).conditionExpression?.body || "",
      setValue: (value) => services.modeling.updateProperties(element, {
        conditionExpression: value ? services.bpmnFactory.create("bpmn:FormalExpression", {body: value}) : undefined}),
    });
  }

  const TIMER_KINDS = ["timeDate", "timeDuration", "timeCycle"];
  const timerOf = (element) => (bo(element).eventDefinitions || []).find((d) => d.$instanceOf("bpmn:TimerEventDefinition"));
  const timerKind = (timer) => TIMER_KINDS.find((k) => timer.get(k)) || "timeDate";

  function TimerKindEntry(props) {
    const {element, id, label, options} = props;
    const services = useServices();
    return h(SelectEntry, {
      element, id, label, getOptions: () => options,
      getValue: () => timerKind(timerOf(element)),
      setValue: (kind) => {
        const timer = timerOf(element);
        const body = timer.get(timerKind(timer))?.body || "";
        const changes = Object.fromEntries(TIMER_KINDS.map((k) => [k, undefined]));
        changes[kind] = services.bpmnFactory.create("bpmn:FormalExpression", {body});
        services.modeling.updateModdleProperties(element, timer, changes);
      },
    });
  }

  function TimerValueEntry(props) {
    const {element, id, label, description} = props;
    const services = useServices();
    return h(TextFieldEntry, {
      element, id, label, description, debounce: services.debounce,
      getValue: () => { const timer = timerOf(element); return timer.get(timerKind(timer))?.body || ""; },
      setValue: (body) => {
        const timer = timerOf(element);
        services.modeling.updateModdleProperties(element, timer, {
          [timerKind(timer)]: services.bpmnFactory.create("bpmn:FormalExpression", {body: body || ""})});
      },
    });
  }

  function DecisionEntry(props) {
    const {element, id, label, options} = props;
    const services = useServices();
    return h(SelectEntry, {
      element, id, label, getOptions: () => options,
      getValue: () => extension(element, "spiffworkflow:CalledDecisionId")?.value || "",
      setValue: (value) => {
        const called = ensureExtension(element, "spiffworkflow:CalledDecisionId", {value}, services);
        services.modeling.updateModdleProperties(element, called, {value});
      },
    });
  }

  function operatorOf(element) { return extension(element, "spiffworkflow:ServiceTaskOperator"); }

  function OperatorEntry(props) {
    const {element, id, label, options} = props;
    const services = useServices();
    return h(SelectEntry, {
      element, id, label, getOptions: () => options,
      getValue: () => operatorOf(element)?.id || "",
      setValue: (value) => {
        const operator = ensureExtension(element, "spiffworkflow:ServiceTaskOperator", {id: value}, services);
        services.modeling.updateModdleProperties(element, operator, {id: value});
      },
    });
  }

  function parameterOf(element, name) {
    return operatorOf(element)?.parameterList?.parameters.find((p) => p.id === name);
  }

  function ParameterEntry(props) {
    const {element, id, name, label, description} = props;
    const services = useServices();
    return h(TextFieldEntry, {
      element, id, label, description, debounce: services.debounce,
      getValue: () => parameterOf(element, name)?.value || "",
      setValue: (value) => {
        const {bpmnFactory, modeling} = services;
        const operator = operatorOf(element);
        let list = operator.parameterList;
        if (!list) {
          list = bpmnFactory.create("spiffworkflow:Parameters", {parameters: []});
          list.$parent = operator;
          modeling.updateModdleProperties(element, operator, {parameterList: list});
        }
        const existing = parameterOf(element, name);
        if (!value) {
          if (existing) modeling.updateModdleProperties(element, list, {parameters: list.parameters.filter((p) => p !== existing)});
        } else if (existing) {
          modeling.updateModdleProperties(element, existing, {value});
        } else {
          const parameter = bpmnFactory.create("spiffworkflow:Parameter", {id: name, type: "str", value});
          parameter.$parent = list;
          modeling.updateModdleProperties(element, list, {parameters: [...list.parameters, parameter]});
        }
      },
    });
  }

  /* --- groups ------------------------------------------------------------------------------------------ */

  function choices(values, labels, empty) {
    return [{value: "", label: empty}, ...values.map((v) => ({value: v, label: labels ? labels[v] || v : v}))];
  }

  function entry(element, id, component, isEdited, extra) {
    return {id, element, component, isEdited, ...extra};
  }

  function groups(element, config, t) {
    const p = config.palette;
    const out = [];
    const property = (name, extra) => entry(element, `tongban-${name}`, PropertyEntry,
      extra.options ? isSelectEntryEdited : isTextFieldEntryEdited, {name, label: t[name] || name, ...extra});
    const human = isA(element, "bpmn:UserTask") || isA(element, "bpmn:ManualTask");
    if (human) {
      const forms = choices(p.forms, null, t.none);
      out.push({id: "tongban-task", label: t.group_task, entries: [
        ...(isA(element, "bpmn:UserTask") ? [property("formJsonSchemaFilename", {options: forms}),
                                             property("formUiSchemaFilename", {options: forms})] : []),
        property("dueDate", {description: t.due_help}),
        property("warnAt", {description: t.warn_help}),
        property("candidateOrg", {description: t.org_help}),
        property("candidateEnterprise", {description: t.enterprise_help}),
      ]});
    }
    if (isA(element, "bpmn:FlowNode")) {
      out.push({id: "tongban-outcome", label: t.group_outcome, entries: [
        property("document", {description: `${t.document_help} ${p.documents.join(", ") || "—"}`}),
        property("outcome", {options: choices(p.outcomes, t.outcomes, t.none)}),
      ]});
    }
    if (isA(element, "bpmn:SequenceFlow") && (isA(element.source, "bpmn:ExclusiveGateway")
                                            || isA(element.source, "bpmn:InclusiveGateway"))) {
      out.push({id: "tongban-condition", label: t.group_condition, entries: [
        entry(element, "tongban-condition-expression", ConditionEntry, isTextAreaEntryEdited,
              {label: t.condition, description: t.condition_help})]});
    }
    if (timerOf(element)) {
      out.push({id: "tongban-timer", label: t.group_timer, entries: [
        entry(element, "tongban-timer-kind", TimerKindEntry, isSelectEntryEdited,
              {label: t.timer_kind, options: TIMER_KINDS.map((k) => ({value: k, label: t[k]}))}),
        entry(element, "tongban-timer-value", TimerValueEntry, isTextFieldEntryEdited,
              {label: t.timer_value, description: t.timer_help})]});
    }
    if (isA(element, "bpmn:BusinessRuleTask")) {
      out.push({id: "tongban-decision", label: t.group_decision, entries: [
        entry(element, "tongban-decision-id", DecisionEntry, isSelectEntryEdited,
              {label: t.decision, options: choices(Object.keys(p.decisions), p.decisions, t.none)})]});
    }
    if (isA(element, "bpmn:ServiceTask")) {
      const names = Object.keys(p.operators);
      const chosen = p.operators[operatorOf(element)?.id];
      const params = chosen ? [...chosen.required.map((n) => [n, true]), ...chosen.optional.map((n) => [n, false])] : [];
      out.push({id: "tongban-service", label: t.group_service, entries: [
        entry(element, "tongban-operator", OperatorEntry, isSelectEntryEdited,
              {label: t.operator, options: choices(names, null, t.none), description: chosen?.description}),
        ...params.map(([name, required]) => entry(element, `tongban-param-${name}`, ParameterEntry,
          isTextFieldEntryEdited, {name, label: `${name}${required ? " *" : ""}`, description: t.param_help}))]});
    }
    if (human || isA(element, "bpmn:Task")) {
      const ledger = ["ledgerSource", "ledgerAmount", "ledgerFund", "ledgerCategory", "ledgerConsent", "ledgerCap",
                      "ledgerSourceCap", "ledgerDonation"];
      out.push({id: "tongban-ledger", label: t.group_ledger, entries: [
        property("ledger", {options: choices(["credit", "debit"], {credit: t.credit, debit: t.debit}, t.none)}),
        ...ledger.map((n) => property(n, {}))]});
    }
    return out;
  }

  function Provider(propertiesPanel, config, labels) {
    this.getGroups = (element) => (existing) => [...existing, ...groups(element, config, labels)];
    propertiesPanel.registerProvider(500, this);  // after getGroups: the panel refuses a provider without it
  }

  function module(config, labels) {
    const provider = function (propertiesPanel) { Provider.call(this, propertiesPanel, config, labels); };
    provider.$inject = ["propertiesPanel"];
    return {__init__: ["tongbanPropertiesProvider"], tongbanPropertiesProvider: ["type", provider]};
  }

  return {moddle, module};
})();
