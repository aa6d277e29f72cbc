using System.Reflection;
using System.Text.RegularExpressions;
using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Diagnostics;

/// <summary>Every ErrorId lives in its area's catalogue, and about_VirtTools_Errors documents exactly those.</summary>
public sealed partial class ErrorCatalogueTests
{
    /// <summary>The catalogues: the engine's *Errors classes and the exception types that name their own ids.</summary>
    private static SortedSet<string> CatalogueIds() => new(
        typeof(PciErrors).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Errors", StringComparison.Ordinal) || t.IsSubclassOf(typeof(VirtToolsException)))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!),
        StringComparer.Ordinal);

    private static SortedSet<string> DocumentedIds() => new(
        File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "en-US", "about_VirtTools_Errors.help.txt"))
            .Select(line => EntryLine().Match(line)).Where(m => m.Success).Select(m => m.Groups["id"].Value),
        StringComparer.Ordinal);

    [GeneratedRegex(@"^    (?<id>[A-Za-z]+) \((?<category>[A-Za-z]+)\)$")]
    private static partial Regex EntryLine();

    [Fact]
    public void The_about_topic_lists_exactly_the_ErrorIds_of_the_catalogues()
    {
        var catalogued = CatalogueIds();
        var documented = DocumentedIds();
        Assert.Empty(catalogued.Except(documented)); // catalogued but not documented
        Assert.Empty(documented.Except(catalogued)); // documented but in no catalogue
    }

    [Fact]
    public void Every_documented_category_is_a_PowerShell_error_category()
    {
        var categories = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "en-US", "about_VirtTools_Errors.help.txt"))
            .Select(line => EntryLine().Match(line)).Where(m => m.Success).Select(m => m.Groups["category"].Value);
        Assert.All(categories, c => Assert.True(Enum.TryParse<System.Management.Automation.ErrorCategory>(c, out _), c));
    }

    /// <summary>An ErrorId written as a literal where the exception is made escapes the catalogue and the about topic.</summary>
    [Fact]
    public void No_source_file_writes_an_ErrorId_inline()
    {
        var inline = new Regex(@"(VirtToolsException|KernelWriteException|UsbIpProtocolException)\(\s*""|ErrorId\s*[!=]=\s*""");
        var offenders = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => inline.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(RepositoryPaths.Root, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.Empty(offenders);
    }
}
