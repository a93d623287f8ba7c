// Stable diagnostic codes. UZC1xxx: window specs as written (our own static check). UZC2xxx: how a sheet uses
// the values a window returns (TypeScript's findings, restated). UZC4xxx: input set files checked against their
// sheet's windows (UZC3xxx is kept for units). Codes are part of the product's face (`uzoncalc
// check` prints them and users may filter on them): never renumber, only add.

export const Code = {
  unknownFieldType: "UZC1001",
  duplicateFieldName: "UZC1002",
  defaultNotAnOption: "UZC1003",
  minAboveMax: "UZC1004",
  defaultOutOfRange: "UZC1005",
  missingFieldName: "UZC1006",
  fieldNameNotIdentifier: "UZC1007",
  duplicateWindowId: "UZC1008",
  missingTitle: "UZC1009",
  selectWithoutOptions: "UZC1010",
  optionsOnNonSelect: "UZC1011",
  wrongAttributeType: "UZC1012",
  invalidWindowId: "UZC1013",
  unknownAttribute: "UZC1014",
  duplicateOption: "UZC1015",
  stepNotPositive: "UZC1016",
  missingFields: "UZC1017",
  unknownField: "UZC2001",
  unitMix: "UZC3001",
  unitCompare: "UZC3002",
  unitConvert: "UZC3003",
  unitNotPlain: "UZC3004",
  inputSetNotJson: "UZC4001",
  inputSetNotAnObject: "UZC4002",
  inputSetWithoutSheet: "UZC4003",
  inputUnknownWindow: "UZC4004",
  inputUnknownField: "UZC4005",
  inputWrongType: "UZC4006",
  inputWrongUnit: "UZC4007",
  inputOutOfRange: "UZC4008",
  inputNotAnOption: "UZC4009",
  inputRequiredMissing: "UZC4010",
} as const;

export type UzonCode = (typeof Code)[keyof typeof Code];
