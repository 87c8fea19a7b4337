// tongban's properties-panel bundle: bpmn-js-properties-panel with the entry components a custom provider needs.
export { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, useService } from 'bpmn-js-properties-panel';
export {
  TextFieldEntry, TextAreaEntry, SelectEntry, CheckboxEntry, ListGroup, CollapsibleEntry,
  isTextFieldEntryEdited, isTextAreaEntryEdited, isSelectEntryEdited, isCheckboxEntryEdited
} from '@bpmn-io/properties-panel';
export { h } from '@bpmn-io/properties-panel/preact';
