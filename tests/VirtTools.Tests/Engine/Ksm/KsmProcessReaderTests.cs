using VirtTools.Diagnostics;
using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Ksm;

public sealed class KsmProcessReaderTests
{
    private static TemporaryTree Process(TemporaryTree tree, int pid, string comm, string? ksmStat, string? merging = null, string cmdline = "")
    {
        tree.File($"/proc/{pid}/comm", comm).File($"/proc/{pid}/cmdline", cmdline, newline: false);
        if (ksmStat is not null) tree.File($"/proc/{pid}/ksm_stat", ksmStat);
        if (merging is not null) tree.File($"/proc/{pid}/ksm_merging_pages", merging);
        return tree;
    }

    [Fact]
    public void The_6_1_ksm_stat_format_gives_counts_and_no_mergeable_flags()
    {
        using var tree = Process(new TemporaryTree("proc"), 42, "qemu-system-x86",
            "ksm_rmap_items 100\nksm_zero_pages 3\nksm_merging_pages 60\nksm_process_profit 238000\n", "60");
        var stats = KsmProcessReader.Read(new SystemRoot(tree.Path), 42);
        Assert.Equal(42, stats.ProcessId);
        Assert.Equal("qemu-system-x86", stats.Name);
        Assert.Equal(60, stats.MergingPages);
        Assert.Equal(100, stats.RmapItems);
        Assert.Equal(3, stats.ZeroPages);
        Assert.Equal(238000, stats.ProfitBytes);
        Assert.Equal(63L * 4096, stats.SavedBytes);
        Assert.Null(stats.Mergeable);
        Assert.Null(stats.MergeAny);
    }

    [Fact]
    public void The_newest_ksm_stat_format_with_colons_gives_mergeable_and_merge_any()
    {
        using var tree = Process(new TemporaryTree("proc"), 7, "java",
            "ksm_rmap_items 5\nksm_zero_pages 0\nksm_merging_pages 2\nksm_process_profit -312\nksm_merge_any: yes\nksm_mergeable: no\n");
        var stats = KsmProcessReader.Read(new SystemRoot(tree.Path), 7);
        Assert.Equal(-312, stats.ProfitBytes);
        Assert.True(stats.MergeAny);
        Assert.False(stats.Mergeable);
    }

    [Fact]
    public void A_5_19_kernel_with_only_ksm_merging_pages_gives_merging_pages_and_null_for_the_rest()
    {
        using var tree = Process(new TemporaryTree("proc"), 9, "qemu-kvm", ksmStat: null, merging: "17");
        var stats = KsmProcessReader.Read(new SystemRoot(tree.Path), 9);
        Assert.Equal(17, stats.MergingPages);
        Assert.Null(stats.RmapItems);
        Assert.Null(stats.ProfitBytes);
    }

    [Fact]
    public void Garbage_in_ksm_stat_is_null_and_does_not_throw()
    {
        using var tree = Process(new TemporaryTree("proc"), 9, "x", "ksm_rmap_items many\n\n: \nnonsense\nksm_merging_pages 0x\n");
        var stats = KsmProcessReader.Read(new SystemRoot(tree.Path), 9);
        Assert.Null(stats.RmapItems);
        Assert.Null(stats.MergingPages);
    }

    [Fact]
    public void A_process_that_does_not_exist_is_ProcessNotFound()
    {
        using var tree = new TemporaryTree("proc");
        tree.Directory("/proc");
        var error = Assert.Throws<VirtToolsException>(() => KsmProcessReader.Read(new SystemRoot(tree.Path), 4242));
        Assert.Equal("ProcessNotFound", error.ErrorId);
        Assert.Equal(FailureKind.NotFound, error.Kind);
        Assert.Equal(4242, error.Target);
    }

    [Fact]
    public void Merging_lists_only_processes_with_merged_pages_and_names_qemu_guests()
    {
        using var tree = new TemporaryTree("proc");
        Process(tree, 100, "qemu-system-x86", "ksm_merging_pages 50\n", "50", "/usr/bin/qemu-system-x86_64\0-name\0guest=web01,debug-threads=on\0-m\0" + "2048\0");
        Process(tree, 200, "bash", "ksm_merging_pages 0\n", "0");
        Process(tree, 300, "qemu-kvm", "ksm_merging_pages 9\n", "9", "qemu-kvm\0-name\0db02\0");
        tree.File("/proc/self/comm", "self").File("/proc/meminfo", "MemTotal: 1 kB");
        var merging = KsmProcessReader.Merging(new SystemRoot(tree.Path)).ToList();
        Assert.Equal(new[] { 100, 300 }, merging.Select(p => p.ProcessId));
        Assert.Equal(new[] { "web01", "db02" }, merging.Select(p => p.VmName));
    }

    [Fact]
    public void This_test_process_is_read_from_the_real_proc_each_field_null_exactly_when_the_kernel_does_not_give_it()
    {
        var proc = $"/proc/{Environment.ProcessId}";
        var stat = File.Exists($"{proc}/ksm_stat")
            ? File.ReadAllLines($"{proc}/ksm_stat").Select(line => line.Split(' ')[0].TrimEnd(':')).ToHashSet()
            : new HashSet<string>();
        var stats = KsmProcessReader.Read(SystemRoot.Live, Environment.ProcessId);
        Assert.Equal(Environment.ProcessId, stats.ProcessId);
        Assert.Equal(File.ReadAllText($"{proc}/comm").Trim(), stats.Name);
        Assert.Equal(stat.Contains("ksm_merging_pages") || File.Exists($"{proc}/ksm_merging_pages"), stats.MergingPages is not null);
        Assert.Equal(stat.Contains("ksm_rmap_items"), stats.RmapItems is not null);
        Assert.Equal(stat.Contains("ksm_zero_pages"), stats.ZeroPages is not null);
        Assert.Equal(stat.Contains("ksm_process_profit"), stats.ProfitBytes is not null);
        Assert.Equal(stat.Contains("ksm_mergeable"), stats.Mergeable is not null);
        Assert.Equal(stat.Contains("ksm_merge_any"), stats.MergeAny is not null);
        Assert.Null(stats.VmName);
    }
}
