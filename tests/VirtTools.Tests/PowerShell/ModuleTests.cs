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

    private static string ModuleFolder => Path.Combine(RepositoryPaths.Root, "out", "VirtTools");

    [Fact]
    public void The_module_folder_passes_Test_ModuleManifest_with_the_version_Directory_Build_props_sets()
    {
        var props = XDocument.Load(Path.Combine(RepositoryPaths.Root, "Directory.Build.props"));
        var versionPrefix = props.Descendants("VersionPrefix").Single().Value.Trim();
        var version = _ps.Ok<Version>("param($p) (Test-ModuleManifest -Path $p -ErrorAction Stop).Version",
            new Dictionary<string, object?> { ["p"] = Path.Combine(ModuleFolder, "VirtTools.psd1") }).Single();
        Assert.Equal(versionPrefix, version.ToString(3));
        Assert.Equal(versionPrefix, typeof(VirtToolsCmdlet).Assembly.GetName().Version!.ToString(3));
    }

    [Fact]
    public void Dotnet_build_laid_out_the_module_folder_with_every_file_its_FileList_names_and_no_other()
    {
        var listed = _ps.Ok<string>("param($p) (Test-ModuleManifest -Path $p -ErrorAction Stop).FileList",
            new Dictionary<string, object?> { ["p"] = Path.Combine(ModuleFolder, "VirtTools.psd1") });
        var present = Directory.GetFiles(ModuleFolder, "*", SearchOption.AllDirectories);
        Assert.Equal(present.Select(Path.GetFullPath).Order(), listed.Select(Path.GetFullPath).Order());
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, "out", "virttools")));
    }

    [Fact]
    public void The_module_folder_keeps_its_NuGet_dependencies_in_a_subfolder_PowerShell_does_not_probe()
    {
        Assert.True(File.Exists(Path.Combine(ModuleFolder, "dependencies", "YamlDotNet.dll")), "out/VirtTools/dependencies/YamlDotNet.dll is missing");
        Assert.False(File.Exists(Path.Combine(ModuleFolder, "YamlDotNet.dll")), "beside VirtTools.dll, YamlDotNet would load into the default context");
        Assert.False(File.Exists(Path.Combine(ModuleFolder, "System.Management.Automation.dll")), "the module must not ship PowerShell itself");
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
