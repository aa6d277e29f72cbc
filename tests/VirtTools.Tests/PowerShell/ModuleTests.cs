using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using VirtTools.Commands;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

[Collection(PowerShellCollection.Name)]
public sealed class ModuleTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static IReadOnlyList<Type> CmdletTypes { get; } = typeof(VirtToolsCmdlet).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && t.GetCustomAttribute<CmdletAttribute>() is not null).ToList();

    private static string NameOf(Type t) { var a = t.GetCustomAttribute<CmdletAttribute>()!; return $"{a.VerbName}-{a.NounName}"; }

    [Fact]
    public void Manifest_exports_exactly_the_cmdlets_the_assembly_defines()
    {
        var exported = _ps.Ok<string>("(Get-Module VirtTools).ExportedCmdlets.Keys").OrderBy(n => n).ToList();
        Assert.Equal(CmdletTypes.Select(NameOf).OrderBy(n => n), exported);
    }

    [Fact]
    public void Test_ModuleManifest_passes_on_the_manifest()
    {
        var version = _ps.Ok<Version>("param($p) (Test-ModuleManifest -Path $p -ErrorAction Stop).Version",
            new Dictionary<string, object?> { ["p"] = RepositoryPaths.ModuleManifest }).Single();
        Assert.Equal(typeof(VirtToolsCmdlet).Assembly.GetName().Version!.ToString(3), version.ToString(3));
    }

    [Fact]
    public void Dotnet_build_laid_out_an_importable_module_folder_and_the_host()
    {
        var folder = Path.Combine(RepositoryPaths.Root, "out", "VirtTools");
        foreach (var file in new[] { "VirtTools.psd1", "VirtTools.dll", "VirtTools.Engine.dll", "VirtTools.format.ps1xml", "en-US/VirtTools.dll-Help.xml", "en-US/about_VirtTools.help.txt" })
            Assert.True(File.Exists(Path.Combine(folder, file)), $"out/VirtTools/{file} is missing");
        Assert.False(File.Exists(Path.Combine(folder, "System.Management.Automation.dll")), "the module must not ship PowerShell itself");
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, "out", "virttools")));
        _ps.Ok("param($p) Test-ModuleManifest -Path $p -ErrorAction Stop", new Dictionary<string, object?> { ["p"] = Path.Combine(folder, "VirtTools.psd1") });
    }

    /// <summary>New-VirtHostSandbox and Remove-VirtHostSandbox make and delete a root; they read no system under one.</summary>
    private static readonly string[] RootlessCmdlets = { "New-VirtHostSandbox", "Remove-VirtHostSandbox" };

    [Fact]
    public void Every_cmdlet_takes_Root_and_declares_its_output_type()
    {
        foreach (var type in CmdletTypes)
        {
            Assert.True(typeof(VirtToolsCmdlet).IsAssignableFrom(type) || RootlessCmdlets.Contains(NameOf(type)),
                $"{NameOf(type)} must derive from VirtToolsCmdlet (for -Root)");
            if (type.GetCustomAttributes<OutputTypeAttribute>().Any()) continue;
            Assert.Fail($"{NameOf(type)} has no [OutputType]");
        }
    }

    [Fact]
    public void Every_output_type_has_a_default_table_view()
    {
        var format = XDocument.Load(Path.Combine(AppContext.BaseDirectory, "VirtTools.format.ps1xml"));
        var viewed = format.Descendants("TypeName").Select(e => e.Value.Trim()).ToHashSet();
        var tables = format.Descendants("View").Where(v => v.Element("TableControl") is not null)
            .SelectMany(v => v.Descendants("TypeName")).Select(e => e.Value.Trim()).ToHashSet();
        var outputs = CmdletTypes.SelectMany(t => t.GetCustomAttributes<OutputTypeAttribute>())
            .SelectMany(a => a.Type).Select(t => t.Type).OfType<Type>()
            .Where(t => t.Namespace?.StartsWith("VirtTools", StringComparison.Ordinal) == true).Distinct();
        foreach (var output in outputs)
            Assert.True(tables.Contains(output.FullName!), $"{output.FullName} has no table view in VirtTools.format.ps1xml (views: {string.Join(", ", viewed)})");
    }

    [Fact]
    public void A_root_that_does_not_exist_is_a_clear_error_from_every_reading_cmdlet()
    {
        var missing = "/nonexistent/virttools-root-" + Guid.NewGuid().ToString("N");
        foreach (var type in CmdletTypes.Where(t => t.GetCustomAttribute<CmdletAttribute>()!.VerbName is "Get" or "Test"))
        {
            if (NameOf(type) is "Get-UsbIpDevice" or "Get-VirtHostConfig" or "Test-VirtHostConfig") continue; // these read a peer or a file, not the root
            var result = _ps.Run($"param($r) {NameOf(type)} -Root $r", new Dictionary<string, object?> { ["r"] = missing });
            var error = result.Terminating?.ErrorRecord ?? result.Errors.FirstOrDefault();
            Assert.True(error is not null, $"{NameOf(type)} -Root <missing> wrote no error");
            Assert.StartsWith("RootNotFound,", error!.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        }
    }

    public void Dispose() => _ps.Dispose();
}
