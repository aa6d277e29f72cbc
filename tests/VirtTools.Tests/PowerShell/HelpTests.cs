using System.Management.Automation;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>Help is part of the product: every cmdlet documented in full, and every example runs.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class HelpTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static readonly string[] CommonParameters =
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable",
        "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm",
    };

    public static TheoryData<string> Cmdlets()
    {
        using var ps = new PowerShellHarness();
        var data = new TheoryData<string>();
        foreach (var name in ps.Ok<string>("(Get-Module VirtTools).ExportedCmdlets.Keys").Order(StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Get_Help_Full_documents_synopsis_description_every_parameter_and_examples(string cmdlet)
    {
        var help = _ps.Ok("param($c) Get-Help $c -Full", new Dictionary<string, object?> { ["c"] = cmdlet }).Single();
        var synopsis = help.Properties["Synopsis"]?.Value?.ToString() ?? "";
        Assert.False(string.IsNullOrWhiteSpace(synopsis), $"{cmdlet}: no synopsis");
        Assert.DoesNotContain(cmdlet + " ", synopsis.TrimStart()); // auto-generated help shows the syntax as synopsis
        Assert.NotEmpty(_ps.Ok<string>("param($c) (Get-Help $c -Full).description.Text", new Dictionary<string, object?> { ["c"] = cmdlet }));

        var declared = _ps.Ok<string>("param($c) (Get-Command $c).Parameters.Keys", new Dictionary<string, object?> { ["c"] = cmdlet })
            .Except(CommonParameters).ToHashSet();
        var documented = _ps.Ok("param($c) (Get-Help $c -Full).parameters.parameter", new Dictionary<string, object?> { ["c"] = cmdlet })
            .ToDictionary(p => p.Properties["name"].Value.ToString()!, p => p);
        Assert.Empty(declared.Except(documented.Keys));
        Assert.Empty(documented.Keys.Except(declared));
        foreach (var (name, parameter) in documented)
        {
            var text = _ps.Ok<string>("param($p) $p.description.Text", new Dictionary<string, object?> { ["p"] = parameter });
            Assert.True(text.Any(t => !string.IsNullOrWhiteSpace(t)), $"{cmdlet} -{name} has no description");
        }
        var examples = _ps.Ok<string>("param($c) (Get-Help $c -Full).examples.example.code", new Dictionary<string, object?> { ["c"] = cmdlet });
        Assert.NotEmpty(examples);
    }

    public static TheoryData<string, int> Examples()
    {
        using var ps = new PowerShellHarness();
        var data = new TheoryData<string, int>();
        foreach (var name in ps.Ok<string>("(Get-Module VirtTools).ExportedCmdlets.Keys").Order(StringComparer.Ordinal))
        {
            var count = ps.Ok<int>("param($c) @((Get-Help $c -Full).examples.example).Count", new Dictionary<string, object?> { ["c"] = name }).Single();
            for (int i = 0; i < count; i++) data.Add(name, i);
        }
        return data;
    }

    /// <summary>Examples run against a private copy of the captured kernel tree, through $env:VIRTTOOLS_ROOT.</summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_help_example_runs_against_the_captured_kernel_tree(string cmdlet, int index)
    {
        var code = _ps.Ok<string>("param($c, $i) @((Get-Help $c -Full).examples.example)[$i].code",
            new Dictionary<string, object?> { ["c"] = cmdlet, ["i"] = index }).Single();
        using var fixture = CapturedFixture.CreateCopy();
        var previous = Environment.GetEnvironmentVariable("VIRTTOOLS_ROOT");
        Environment.SetEnvironmentVariable("VIRTTOOLS_ROOT", fixture.Path);
        try
        {
            var result = _ps.Run(code, render: true);
            Assert.True(result.Succeeded, $"example {index + 1} of {cmdlet} failed:\n{code}\n{PowerShellHarness.Describe(result)}");
        }
        finally
        {
            Environment.SetEnvironmentVariable("VIRTTOOLS_ROOT", previous);
        }
    }

    [Theory]
    [InlineData("about_VirtTools", "VIRTTOOLS_ROOT")]
    [InlineData("about_VirtTools_HostProfile", "includeIommuGroup")]
    [InlineData("about_VirtTools_Testing", "New-VirtHostSandbox")]
    [InlineData("about_VirtTools_Errors", "PciBridgeNotPassable")]
    public void About_topic_is_found(string topic, string mentions)
    {
        var text = _ps.Ok("param($t) Get-Help $t", new Dictionary<string, object?> { ["t"] = topic }).Single().ToString();
        Assert.Contains(mentions, text);
    }

    /// <summary>The profile that about_VirtTools_HostProfile shows (indented eight spaces there) is one Get-VirtHostConfig accepts.</summary>
    [Fact]
    public void The_profile_shown_in_about_VirtTools_HostProfile_is_valid()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "en-US", "about_VirtTools_HostProfile.help.txt"));
        var yaml = lines.SkipWhile(line => line != "        usbip:").TakeWhile(line => line.StartsWith("        ", StringComparison.Ordinal))
            .Select(line => line[8..]).ToList();
        Assert.Contains(yaml, line => line.StartsWith("ksm:", StringComparison.Ordinal));
        using var folder = new TemporaryTree("profile");
        var path = Path.Combine(folder.Path, "host.yaml");
        File.WriteAllLines(path, yaml);
        var config = _ps.Ok("param($p) Get-VirtHostConfig -Path $p", new Dictionary<string, object?> { ["p"] = path }).Single();
        Assert.Equal(2, _ps.Ok<object>("param($c) $c.UsbIp.Exports", new Dictionary<string, object?> { ["c"] = config }).Count);
    }

    public void Dispose() => _ps.Dispose();
}
