# Shared by the Pester files: where the module under test and the captured kernel tree are. Dot-source it in BeforeAll
# (and in BeforeDiscovery where a file needs the paths to build its cases).

# The module folder users install: out/VirtTools as `dotnet build` lays it out, never a test bin folder.
$script:ModuleManifest = if ($env:VIRTTOOLS_MODULE) { $env:VIRTTOOLS_MODULE } else { "$PSScriptRoot/../../out/VirtTools/VirtTools.psd1" }

# The sysfs/procfs tree captured from a real Debian 6.1 kernel in the QEMU lab.
$script:FixtureArchive = if ($env:VIRTTOOLS_FIXTURE_ARCHIVE) { $env:VIRTTOOLS_FIXTURE_ARCHIVE } else {
    @("$PSScriptRoot/../fixtures/qemu-debian-6.1-usbip-vfio.tgz", "$PSScriptRoot/../../../shared/fixtures/qemu-debian-6.1-usbip-vfio.tgz") |
        Where-Object { Test-Path $_ } | Select-Object -First 1
}

# A private, writable copy of the captured tree in a new folder $Destination (under $TestDrive in a test), as its path.
function New-FixtureCopy([string] $Destination) {
    $folder = (New-Item -ItemType Directory -Force -Path $Destination).FullName
    tar -xzf $script:FixtureArchive -C $folder
    if ($LASTEXITCODE -ne 0) { throw "tar could not extract $script:FixtureArchive into $folder" }
    $folder
}
