using System.Management.Automation;
using VirtTools.Host.Shell;
using VirtTools.Hypervisor;
using VirtTools.Ksm;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>Get-KsmStats, Set-KsmConfig, Get-VirtHost and Test-VirtHost through a hosted runspace.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class KsmHostCmdletTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static Dictionary<string, object?> Args(params (string, object?)[] pairs) => pairs.ToDictionary(p => p.Item1, p => p.Item2);

    private static ErrorRecord FirstError(ShellResult result) =>
        result.Terminating?.ErrorRecord ?? result.Errors.FirstOrDefault() ?? throw new Xunit.Sdk.XunitException("no error was written");

    [Theory]
    [MemberData(nameof(TestMachine.All), MemberType = typeof(TestMachine))]
    public void Get_KsmStats_reports_the_KSM_the_root_has_or_KsmNotAvailable(string machineName)
    {
        using var machine = TestMachine.Open(machineName);
        var result = _ps.Run("param($r) Get-KsmStats -Root $r", Args(("r", machine.RootPath)));
        if (!machine.Has("/sys/kernel/mm/ksm"))
        {
            Assert.StartsWith("KsmNotAvailable,", FirstError(result).FullyQualifiedErrorId);
            return;
        }
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        var stats = (KsmStats)result.Output.Single().BaseObject;
        Assert.Equal(machine.Has("/sys/kernel/mm/ksm/run"), stats.Run is not null);
        Assert.Equal(machine.Has("/sys/kernel/mm/ksm/advisor_mode"), stats.AdvisorMode is not null);
        Assert.Equal(machine.Root.Path, stats.Root);
    }

    [Fact]
    public void Get_KsmStats_AllProcesses_lists_only_processes_with_merged_pages()
    {
        var all = _ps.Ok<KsmProcessStats>("Get-KsmStats -AllProcesses -Root /");
        Assert.All(all, p => Assert.True(p.MergingPages > 0));
    }

    [Fact]
    public void Get_Process_output_pipes_into_Get_KsmStats_by_its_Id()
    {
        var stats = _ps.Ok<KsmProcessStats>("[System.Diagnostics.Process]::GetCurrentProcess() | Get-KsmStats -Root /").Single();
        Assert.Equal(Environment.ProcessId, stats.ProcessId);
        Assert.Equal(File.Exists($"/proc/{Environment.ProcessId}/ksm_merging_pages"), stats.MergingPages is not null);
    }

    [Fact]
    public void A_process_that_does_not_exist_is_a_non_terminating_ProcessNotFound_and_the_others_are_reported()
    {
        var result = _ps.Run("param($ids) Get-KsmStats -ProcessId $ids -Root /", Args(("ids", new[] { int.MaxValue - 1, Environment.ProcessId })));
        Assert.Null(result.Terminating);
        Assert.Single(result.Output);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("ProcessNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(int.MaxValue - 1, error.TargetObject);
    }

    [Fact]
    public void Get_KsmStats_on_a_kernel_without_KSM_is_KsmNotAvailable()
    {
        using var tree = new TemporaryTree("no-ksm").Directory("/sys/kernel/mm");
        var error = FirstError(_ps.Run("param($r) Get-KsmStats -Root $r", Args(("r", tree.Path))));
        Assert.StartsWith("KsmNotAvailable,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.NotEnabled, error.CategoryInfo.Category);
        Assert.Contains("CONFIG_KSM", error.ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void Set_KsmConfig_WhatIf_on_a_fixture_copy_writes_nothing_and_says_what_it_would_do()
    {
        using var copy = CapturedFixture.CreateCopy();
        var result = _ps.Run("param($r) Set-KsmConfig -PagesToScan 200 -WhatIf -Root $r", Args(("r", copy.Path)), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Empty(result.Output);
        Assert.Equal("100\n", copy.Read("/sys/kernel/mm/ksm/pages_to_scan"));
        Assert.Contains("pages_to_scan", _ps.HostText);
    }

    [Fact]
    public void Set_KsmConfig_on_a_fixture_copy_outputs_the_new_stats()
    {
        using var copy = CapturedFixture.CreateCopy();
        var stats = _ps.Ok<KsmStats>("param($r) Set-KsmConfig -Run Unmerge -MaxPageSharing 512 -Root $r", Args(("r", copy.Path))).Single();
        Assert.Equal(KsmRunState.Unmerge, stats.Run);
        Assert.Equal(512, stats.MaxPageSharing);
    }

    [Theory]
    [InlineData("-PagesToScan 0", "KsmInvalidValue", ErrorCategory.InvalidArgument)]
    [InlineData("-AdvisorMode scan-time", "KsmSettingNotSupported", ErrorCategory.NotEnabled)]
    public void Set_KsmConfig_refusals_carry_stable_error_ids(string arguments, string errorId, ErrorCategory category)
    {
        using var copy = CapturedFixture.CreateCopy();
        var error = FirstError(_ps.Run($"param($r) Set-KsmConfig {arguments} -Root $r", Args(("r", copy.Path))));
        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Equal(category, error.CategoryInfo.Category);
        Assert.Equal("100\n", copy.Read("/sys/kernel/mm/ksm/pages_to_scan"));
    }

    [Theory]
    [MemberData(nameof(TestMachine.All), MemberType = typeof(TestMachine))]
    public void Get_VirtHost_reports_dev_kvm_as_the_root_has_it_and_the_hypervisor_the_engine_detects(string machineName)
    {
        using var machine = TestMachine.Open(machineName);
        var host = _ps.Ok<VirtHost>("param($r) Get-VirtHost -Root $r", Args(("r", machine.RootPath))).Single();
        Assert.Equal(machine.Has("/dev/kvm"), host.KvmDeviceExists);
        Assert.Equal(machine.Entries("/sys/kernel/iommu_groups").Count, host.IommuGroupCount);
        Assert.Equal(VirtHostProbe.Read(machine.Root).RunningUnder, host.RunningUnder);
        Assert.Equal(machine.Root.Path, host.Root);
    }

    [Fact]
    public void Test_VirtHost_failures_are_objects_to_filter_not_errors()
    {
        using var tree = new TemporaryTree("bare").File("/proc/cpuinfo", "flags\t: fpu\n").Directory("/dev");
        var result = _ps.Run("param($r) Test-VirtHost -Root $r | Where-Object Result -eq 'Fail'", Args(("r", tree.Path)));
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        var failed = result.Output.Select(o => (VirtHostCheck)o.BaseObject).ToList();
        Assert.Contains(failed, c => c.Name == "/dev/kvm exists");
        Assert.All(failed, c => Assert.False(string.IsNullOrEmpty(c.Hint)));
    }

    [Fact]
    public void The_default_table_views_render_with_their_columns()
    {
        using var copy = CapturedFixture.CreateCopy();
        foreach (var (command, header) in new[] { ("Get-KsmStats", "SavedMiB"), ("Get-VirtHost", "RunningUnder"), ("Test-VirtHost", "Result"), ("Get-KsmStats -Name 'nothing*'", null) })
        {
            var result = _ps.Run($"param($r) {command} -Root $r", Args(("r", copy.Path)), render: true);
            Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
            if (header is not null) Assert.Contains(header, _ps.HostText);
        }
        var processes = _ps.Run("Get-KsmStats -ProcessId $PID -Root /", render: true);
        Assert.True(processes.Succeeded);
        Assert.Contains("MergingPages", _ps.HostText);
    }

    public void Dispose() => _ps.Dispose();
}
