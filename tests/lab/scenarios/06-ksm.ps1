# KSM: a process with identical MADV_MERGEABLE pages, Set-KsmConfig starts ksmd fast, Get-KsmStats sees the sharing
# globally and for that process, as /sys/kernel/mm/ksm and /proc/<pid> do.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Set-KsmConfig', 'Get-KsmStats'
$ksm = '/sys/kernel/mm/ksm'
$pages = 1024
$start = [Diagnostics.ProcessStartInfo]::new('/lab/bin/ksm-mergeable', "$pages")
$start.RedirectStandardOutput = $true
$helper = [Diagnostics.Process]::Start($start)
$runBefore = Read-LabFile "$ksm/run"
try {
    $ready = $helper.StandardOutput.ReadLine()
    Assert-LabEqual "ready $($helper.Id)" $ready 'the helper mapped its mergeable pages'
    $null = Set-KsmConfig -Run Run -PagesToScan 1000 -SleepMilliseconds 10 -Confirm:$false
    Assert-LabEqual '1' (Read-LabFile "$ksm/run") 'kernel: ksm run is 1'
    Assert-LabEqual '1000' (Read-LabFile "$ksm/pages_to_scan") 'kernel: pages_to_scan is 1000'
    Assert-LabEqual '10' (Read-LabFile "$ksm/sleep_millisecs") 'kernel: sleep_millisecs is 10'

    $merged = Wait-Lab { [int](Read-LabFile "/proc/$($helper.Id)/ksm_merging_pages") -eq $pages } 30
    Assert-Lab $merged "kernel: ksmd merged the helper's $pages pages (ksm_merging_pages $(Read-LabFile "/proc/$($helper.Id)/ksm_merging_pages"))"
    Assert-Lab ([long](Read-LabFile "$ksm/pages_sharing") -gt 0) "kernel: pages_sharing is $(Read-LabFile "$ksm/pages_sharing")"

    $stats = Get-KsmStats
    Assert-Lab ($stats.PagesSharing -gt 0) "Get-KsmStats PagesSharing is $($stats.PagesSharing)"
    Assert-LabEqual (Read-LabFile "$ksm/pages_shared") $stats.PagesShared 'Get-KsmStats PagesShared equals the kernel'
    $process = Get-KsmStats -ProcessId $helper.Id
    Assert-Lab ($process.MergingPages -gt 0) "Get-KsmStats -ProcessId MergingPages is $($process.MergingPages)"
    Assert-LabEqual (Read-LabFile "/proc/$($helper.Id)/ksm_merging_pages") $process.MergingPages 'MergingPages equals /proc/<pid>/ksm_merging_pages'
    Assert-LabEqual $helper.Id $process.ProcessId 'ProcessId'
}
finally {
    if (-not $helper.HasExited) { $helper.Kill(); $helper.WaitForExit(5000) }
    if ($runBefore -ne $null) { Write-LabFile "$ksm/run" $runBefore }
}
Complete-LabScenario
