/// The field that made a line `invalid-field`, and why.
public struct InvalidField: Hashable, Sendable, CustomStringConvertible {
    /// The offending field.
    public var field: FieldName
    /// What is wrong with it.
    public var problem: FieldProblem

    /// Names a field and its problem.
    public init(_ field: FieldName, _ problem: FieldProblem) {
        self.field = field
        self.problem = problem
    }

    /// `"payload: element 3 is not a number"`.
    public var description: String { "\(field): \(problem)" }
}
