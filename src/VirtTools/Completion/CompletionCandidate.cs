namespace VirtTools.Commands.Completion;

/// <summary>
/// One value a completer offers: the text that goes on the command line, and the line the menu shows for it
/// ("0000:00:02.0  8086:100e Ethernet controller [vfio-pci]") so the user can tell the values apart.
/// </summary>
public sealed record CompletionCandidate(string Value, string Description)
{
    /// <summary>Other spellings the typed word may match, e.g. a PCI address without its "0000:" domain.</summary>
    public IReadOnlyList<string> AlsoMatches { get; init; } = Array.Empty<string>();

    public string ListItemText => Description.Length == 0 ? Value : Value + "  " + Description;

    /// <summary>A description made of the parts that are known, one space apart.</summary>
    public static string Words(params string?[] parts) => string.Join(" ", parts.Where(p => !string.IsNullOrWhiteSpace(p)));
}
